"""Upload sessions: the phone asks for a one-blob SAS URL and the KEK's public half (also on its own, to encrypt offline)."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.domain.library import UPLOAD_SCHEMA
from shared_code.services import library

bp = func.Blueprint()


@bp.route(route="folders/{folderId}/uploads", methods=["POST"])
@endpoint(body=UPLOAD_SCHEMA)
def start_upload(call):
    return json_response(library.start_upload(call.services, call.user, call.param("folderId"), call.body), status=201)


# The key is public and changes only on rotation (older versions stay valid): the phone may keep it.
UPLOAD_KEY_CACHE = "private, max-age=3600"


@bp.route(route="upload-key", methods=["GET"])
@endpoint()
def get_upload_key(call):
    return json_response(library.upload_key(call.services), headers={"Cache-Control": UPLOAD_KEY_CACHE})
