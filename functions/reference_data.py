"""Reference data the app shows in pickers: the body sites a folder can be about (SNOMED CT coded)."""

import azure.functions as func

from shared_code.api.http import ANY_USER, endpoint
from shared_code.domain.body_sites import BODY_SITES, SNOMED_CT_SYSTEM

bp = func.Blueprint()


@bp.route(route="body-sites", methods=["GET"])
@endpoint(roles=ANY_USER)
def list_body_sites(call):
    return {"items": [{"key": key, "system": SNOMED_CT_SYSTEM, "code": code, "display": display} for key, (code, display) in BODY_SITES.items()]}
