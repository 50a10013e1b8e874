"""GET /api/health: each dependency's state (no auth)."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.services import health

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"])
@endpoint(roles=None)
def health_check(call):
    healthy, states = health.check(call.services)
    return json_response({"status": "ok" if healthy else "unavailable", "dependencies": states}, status=200 if healthy else 503)
