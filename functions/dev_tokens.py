"""Local only: the dev issuer mints tokens for demo users (404 unless DEV_ISSUER_ENABLED)."""

import azure.functions as func

from shared_code.api.http import endpoint
from shared_code.domain.errors import NotFoundError

bp = func.Blueprint()

TOKEN_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sub", "name", "role"],
    "properties": {
        "sub": {"type": "string", "minLength": 1, "maxLength": 200},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "role": {"enum": ["patient", "clinician", "admin"]},
        "email": {"type": ["string", "null"], "maxLength": 254},
        # patients: the NHS number NHS login would put in the token (its verified claim)
        "nhsNumber": {"type": ["string", "null"], "maxLength": 12},
    },
}


def _issuer(call):
    if call.services.dev_issuer is None:
        raise NotFoundError()
    return call.services.dev_issuer


@bp.route(route="dev/token", methods=["POST"])
@endpoint(roles=None, body=TOKEN_SCHEMA)
def mint_dev_token(call):
    b = call.body
    return _issuer(call).mint(b["sub"], b["name"], b["role"], b.get("email"), nhs_number=b.get("nhsNumber"))


@bp.route(route="dev/jwks", methods=["GET"])
@endpoint(roles=None)
def dev_jwks(call):
    return _issuer(call).jwks()
