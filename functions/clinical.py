"""Clinical depth: triage per folder, the lesion-history questionnaire, "Show photo" on intimate sites."""

import azure.functions as func

from shared_code.api.http import ANY_USER, endpoint, json_response
from shared_code.auth.principal import CLINICIAN, PATIENT
from shared_code.domain.lesion_history import LESION_HISTORY_SCHEMA, questionnaire_view
from shared_code.domain.measurement import MEASUREMENT_SCHEMA
from shared_code.services import lesion_history, measurements, safeguards, triage

bp = func.Blueprint()
CLINICIANS = {"roles": (CLINICIAN,)}


@bp.route(route="clinic/cases/{caseId}/folders/{folderId}/triage", methods=["POST"])
@endpoint(body=triage.FOLDER_TRIAGE_SCHEMA, **CLINICIANS)
def add_folder_triage(call):
    result = triage.record(call.services, call.user, call.param("caseId"), call.param("folderId"), call.body)
    return json_response(result, status=201)


@bp.route(route="clinic/cases/{caseId}/folders/{folderId}/triage", methods=["GET"])
@endpoint(**CLINICIANS)
def list_folder_triage(call):
    return triage.history(call.services, call.user, call.param("caseId"), call.param("folderId"))


@bp.route(route="clinic/cases/{caseId}/images/{imageId}/reveal", methods=["POST"])
@endpoint(**CLINICIANS)
def reveal_intimate_photo(call):
    return safeguards.reveal_photo(call.services, call.user, call.param("caseId"), call.param("imageId"))


@bp.route(route="folders/{folderId}/lesion-history", methods=["PUT"])
@endpoint(body=LESION_HISTORY_SCHEMA, roles=(PATIENT,))
def put_lesion_history(call):
    return lesion_history.answer(call.services, call.user, call.param("folderId"), call.body)


@bp.route(route="folders/{folderId}/lesion-history", methods=["GET"])
@endpoint(roles=(PATIENT, CLINICIAN))
def get_lesion_history(call):
    return lesion_history.read(call.services, call.user, call.param("folderId"))


@bp.route(route="lesion-history/questionnaire", methods=["GET"])
@endpoint(roles=ANY_USER)
def get_lesion_questionnaire(call):
    return questionnaire_view()


@bp.route(route="clinic/cases/{caseId}/images/{imageId}/measurements", methods=["POST"])
@endpoint(body=MEASUREMENT_SCHEMA, **CLINICIANS)
def add_measurement(call):
    result = measurements.add(call.services, call.user, call.param("caseId"), call.param("imageId"), call.body)
    return json_response(result, status=201)


@bp.route(route="clinic/cases/{caseId}/images/{imageId}/measurements", methods=["GET"])
@endpoint(**CLINICIANS)
def list_measurements(call):
    return measurements.for_image(call.services, call.user, call.param("caseId"), call.param("imageId"))
