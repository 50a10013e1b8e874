"""Finding a clinic, the consent text, and the patient's shares."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.domain.errors import BadRequest
from shared_code.services import clinics, sharing

bp = func.Blueprint()


@bp.route(route="clinics", methods=["GET"])
@endpoint()
def find_clinic(call):
    code = call.query("code")
    if not code:
        raise BadRequest("Give the clinic's code as ?code=")
    return clinics.find_by_code(call.services.store, code, call.user.patient_id, call.services.clock.now(), call.client_address())


@bp.route(route="consent-text", methods=["GET"])
@endpoint()
def get_consent_text(call):
    clinic_id = call.query("clinicId")
    if not clinic_id:
        raise BadRequest("Give the clinic as ?clinicId=")
    return sharing.consent_text(call.services, clinic_id)


@bp.route(route="shares", methods=["GET"])
@endpoint()
def list_shares(call):
    return sharing.list_shares(call.services, call.user, *call.paging())


@bp.route(route="shares", methods=["POST"])
@endpoint(body=sharing.SHARE_SCHEMA)
def grant_share(call):
    return json_response(sharing.grant(call.services, call.user, call.body), status=201)


@bp.route(route="shares/{shareId}", methods=["DELETE"])
@endpoint()
def revoke_share(call):
    return sharing.revoke(call.services, call.user, call.param("shareId"))
