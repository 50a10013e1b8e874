"""Admins manage clinics and which clinician identities belong to them. Never patient data.

Under /api/manage: the Functions host reserves routes that start with `admin` or `runtime`.
"""

import azure.functions as func

from shared_code.api.http import endpoint, json_response, no_content
from shared_code.auth.principal import ADMIN
from shared_code.domain.errors import Forbidden
from shared_code.services import clinics

bp = func.Blueprint()
ADMIN_ONLY = {"roles": (ADMIN,), "wrong_role": Forbidden}


@bp.route(route="manage/clinics", methods=["GET"])
@endpoint(**ADMIN_ONLY)
def list_clinics(call):
    return {"items": clinics.list_clinics(call.services.store), "continuationToken": None}


@bp.route(route="manage/clinics", methods=["POST"])
@endpoint(body=clinics.CLINIC_SCHEMA, **ADMIN_ONLY)
def create_clinic(call):
    local = call.services.settings.environment == "local"  # the demo seed's documented code, local runs only
    return json_response(clinics.create_clinic(call.services.store, call.body, call.services.clock.now(), allow_demo_code=local), status=201)


@bp.route(route="manage/clinics/{clinicId}/members", methods=["GET"])
@endpoint(**ADMIN_ONLY)
def list_clinic_members(call):
    return {"items": clinics.list_members(call.services.store, call.param("clinicId"))}


@bp.route(route="manage/clinics/{clinicId}/members", methods=["POST"])
@endpoint(body=clinics.MEMBER_SCHEMA, **ADMIN_ONLY)
def add_clinic_member(call):
    return json_response(clinics.add_member(call.services.store, call.param("clinicId"), call.body, call.services.clock.now()), status=201)


@bp.route(route="manage/clinics/{clinicId}/members/{sub}", methods=["DELETE"])
@endpoint(**ADMIN_ONLY)
def remove_clinic_member(call):
    clinics.remove_member(call.services.store, call.param("clinicId"), call.param("sub"))
    return no_content()
