"""GET /api/openapi.json: the API contract, for the mobile app team (public)."""

from functools import cache
from pathlib import Path

import azure.functions as func
import yaml

from shared_code.api.http import endpoint, json_response

bp = func.Blueprint()
DOCUMENT = Path(__file__).resolve().parent.parent / "shared_code" / "api" / "openapi.yaml"


@cache
def _document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


@bp.route(route="openapi.json", methods=["GET"])
@endpoint(roles=None)
def get_openapi_document(call):
    return json_response(_document())
