"""The clinic's worklist and cases (clinicians who are members of the sharing clinic)."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.auth.principal import CLINICIAN
from shared_code.services import cases

bp = func.Blueprint()
CLINICIANS = {"roles": (CLINICIAN,)}


@bp.route(route="clinic/cases", methods=["GET"])
@endpoint(**CLINICIANS)
def list_cases(call):
    return cases.worklist(call.services, call.user, call.query("filter"), *call.paging(), sort=call.query("sort"))


@bp.route(route="clinic/cases/{caseId}", methods=["GET"])
@endpoint(**CLINICIANS)
def get_case(call):
    return cases.get_case(call.services, call.user, call.param("caseId"))


@bp.route(route="clinic/cases/{caseId}/reviewed", methods=["POST"])
@endpoint(**CLINICIANS)
def mark_case_reviewed(call):
    return cases.mark_reviewed(call.services, call.user, call.param("caseId"))


@bp.route(route="clinic/cases/{caseId}/triage", methods=["PUT"])
@endpoint(body=cases.TRIAGE_SCHEMA, **CLINICIANS)
def set_case_triage(call):
    return cases.set_triage(call.services, call.user, call.param("caseId"), call.body)


@bp.route(route="clinic/cases/{caseId}/comments/{commentId}/withdraw", methods=["POST"])
@endpoint(**CLINICIANS)
def withdraw_case_comment(call):
    return cases.withdraw_comment(call.services, call.user, call.param("caseId"), call.param("commentId"))


@bp.route(route="clinic/cases/{caseId}/notes", methods=["GET"])
@endpoint(**CLINICIANS)
def list_case_notes(call):
    return cases.list_notes(call.services, call.user, call.param("caseId"))


@bp.route(route="clinic/cases/{caseId}/notes", methods=["POST"])
@endpoint(body=cases.NOTE_SCHEMA, **CLINICIANS)
def add_case_note(call):
    return json_response(cases.add_note(call.services, call.user, call.param("caseId"), call.body["text"]), status=201)
