"""Research studies: admins manage them, patients enrol and withdraw, researchers see pseudonymised data.

Admin routes are under /api/manage (the Functions host reserves routes that start with `admin`).
Researchers are staff (clinician role) with membership in a study; everyone else gets 404.
"""

import azure.functions as func

from shared_code.api.http import binary_response, endpoint, json_response, no_content
from shared_code.auth.principal import ADMIN, CLINICIAN
from shared_code.domain.errors import BadRequest, Forbidden
from shared_code.domain.library import size_param
from shared_code.domain.studies import ENROLMENT_SCHEMA, INFORMATION_SCHEMA, RESEARCHER_SCHEMA, STUDY_SCHEMA
from shared_code.services import research_exports, studies

bp = func.Blueprint()
ADMIN_ONLY = {"roles": (ADMIN,), "wrong_role": Forbidden}
RESEARCHERS = {"roles": (CLINICIAN,)}


# ----------------------------------------------------------------------------- admins
@bp.route(route="manage/studies", methods=["GET"])
@endpoint(**ADMIN_ONLY)
def list_studies(call):
    return {"items": studies.list_studies(call.services), "continuationToken": None}


@bp.route(route="manage/studies", methods=["POST"])
@endpoint(body=STUDY_SCHEMA, **ADMIN_ONLY)
def create_study(call):
    return json_response(studies.create_study(call.services, call.body), status=201)


@bp.route(route="manage/studies/{studyId}", methods=["GET"])
@endpoint(**ADMIN_ONLY)
def get_managed_study(call):
    return studies.get_study(call.services, call.param("studyId"))


@bp.route(route="manage/studies/{studyId}/information", methods=["POST"])
@endpoint(body=INFORMATION_SCHEMA, **ADMIN_ONLY)
def add_study_information(call):
    return json_response(studies.add_information_version(call.services, call.param("studyId"), call.body), status=201)


@bp.route(route="manage/studies/{studyId}/researchers", methods=["GET"])
@endpoint(**ADMIN_ONLY)
def list_study_researchers(call):
    return {"items": studies.list_researchers(call.services, call.param("studyId"))}


@bp.route(route="manage/studies/{studyId}/researchers", methods=["POST"])
@endpoint(body=RESEARCHER_SCHEMA, **ADMIN_ONLY)
def add_study_researcher(call):
    return json_response(studies.add_researcher(call.services, call.param("studyId"), call.body), status=201)


@bp.route(route="manage/studies/{studyId}/researchers/{sub}", methods=["DELETE"])
@endpoint(**ADMIN_ONLY)
def remove_study_researcher(call):
    studies.remove_researcher(call.services, call.param("studyId"), call.param("sub"))
    return no_content()


# ----------------------------------------------------------------------------- patients
@bp.route(route="studies", methods=["GET"])
@endpoint()
def find_study(call):
    code = call.query("code")
    if not code or len(code) > 20:
        raise BadRequest("Give the study's enrolment code as ?code=")
    return studies.find_by_code(call.services, call.user, code)


@bp.route(route="enrolments", methods=["GET"])
@endpoint()
def list_enrolments(call):
    return studies.list_enrolments(call.services, call.user)


@bp.route(route="enrolments", methods=["POST"])
@endpoint(body=ENROLMENT_SCHEMA)
def enrol(call):
    return json_response(studies.enrol(call.services, call.user, call.body), status=201)


@bp.route(route="enrolments/{enrolmentId}", methods=["GET"])
@endpoint()
def get_enrolment(call):
    return studies.get_enrolment(call.services, call.user, call.param("enrolmentId"))


@bp.route(route="enrolments/{enrolmentId}", methods=["DELETE"])
@endpoint()
def withdraw_enrolment(call):
    return studies.withdraw(call.services, call.user, call.param("enrolmentId"))


# ----------------------------------------------------------------------------- researchers
@bp.route(route="research/studies", methods=["GET"])
@endpoint(**RESEARCHERS)
def list_my_studies(call):
    return studies.my_studies(call.services, call.user)


@bp.route(route="research/studies/{studyId}", methods=["GET"])
@endpoint(**RESEARCHERS)
def get_research_study(call):
    return studies.get_research_study(call.services, call.user, call.param("studyId"))


@bp.route(route="research/studies/{studyId}/participants", methods=["GET"])
@endpoint(**RESEARCHERS)
def list_participants(call):
    return studies.list_participants(call.services, call.user, call.param("studyId"))


@bp.route(route="research/studies/{studyId}/participants/{participantId}/photos/{photoId}/content", methods=["GET"])
@endpoint(**RESEARCHERS)
def get_participant_photo(call):
    data, filename = studies.photo_content(
        call.services, call.user, call.param("studyId"), call.param("participantId"), call.param("photoId"), size_param(call.query("size"))
    )
    return binary_response(data, "image/jpeg", filename=filename)


@bp.route(route="research/studies/{studyId}/exports", methods=["GET"])
@endpoint(**RESEARCHERS)
def list_research_exports(call):
    return research_exports.list_exports(call.services, call.user, call.param("studyId"))


@bp.route(route="research/studies/{studyId}/exports", methods=["POST"])
@endpoint(**RESEARCHERS)
def request_research_export(call):
    return json_response(research_exports.request_export(call.services, call.user, call.param("studyId")), status=202)


@bp.route(route="research/studies/{studyId}/exports/{exportId}", methods=["GET"])
@endpoint(**RESEARCHERS)
def get_research_export(call):
    return research_exports.export_status(call.services, call.user, call.param("studyId"), call.param("exportId"))


@bp.route(route="research/studies/{studyId}/exports/{exportId}/content", methods=["GET"])
@endpoint(**RESEARCHERS)
def get_research_export_content(call):
    data = research_exports.export_content(call.services, call.user, call.param("studyId"), call.param("exportId"))
    return binary_response(data, "application/zip", filename=f"skinvault-research-{call.param('exportId')}.zip")
