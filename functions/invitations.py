"""Photo requests: the clinic invites a patient by email; the patient looks the code up and accepts it."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.auth.principal import CLINICIAN
from shared_code.services import invitations

bp = func.Blueprint()
CLINICIANS = {"roles": (CLINICIAN,)}


@bp.route(route="clinic/invitations", methods=["POST"])
@endpoint(body=invitations.INVITATION_SCHEMA, **CLINICIANS)
def request_photos(call):
    return json_response(invitations.create(call.services, call.user, call.body), status=201)


@bp.route(route="clinic/invitations/{invitationId}", methods=["GET"])
@endpoint(**CLINICIANS)
def get_invitation(call):
    return invitations.get_for_clinic(call.services, call.user, call.param("invitationId"))


@bp.route(route="clinic/invitations/{invitationId}/cancel", methods=["POST"])
@endpoint(**CLINICIANS)
def cancel_invitation(call):
    return invitations.cancel(call.services, call.user, call.param("invitationId"))


@bp.route(route="invitations/{code}", methods=["GET"])
@endpoint()
def look_up_invitation(call):
    return invitations.look_up(call.services, call.user, call.param("code"))


@bp.route(route="invitations/{code}/accept", methods=["POST"])
@endpoint()
def accept_invitation(call):
    return invitations.accept(call.services, call.user, call.param("code"))
