"""The clinic's worklist and cases (clinicians who are members of the sharing clinic)."""

import azure.functions as func

from shared_code.api.http import endpoint
from shared_code.auth.principal import CLINICIAN
from shared_code.services import cases

bp = func.Blueprint()
CLINICIANS = {"roles": (CLINICIAN,)}


@bp.route(route="clinic/cases", methods=["GET"])
@endpoint(**CLINICIANS)
def list_cases(call):
    return cases.worklist(call.services, call.user, call.query("filter"), *call.paging())


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
