"""GET /api/audit: the patient's own access log, in plain terms."""

import azure.functions as func

from shared_code.api.http import endpoint
from shared_code.services import sharing

bp = func.Blueprint()


@bp.route(route="audit", methods=["GET"])
@endpoint()
def get_audit_trail(call):
    return sharing.audit_trail(call.services, call.user.patient_id, *call.paging())
