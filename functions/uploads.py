"""Upload sessions: the phone asks for a one-blob SAS URL and the KEK's public half."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.domain.library import UPLOAD_SCHEMA
from shared_code.services import library

bp = func.Blueprint()


@bp.route(route="folders/{folderId}/uploads", methods=["POST"])
@endpoint(body=UPLOAD_SCHEMA)
def start_upload(call):
    return json_response(library.start_upload(call.services, call.user, call.param("folderId"), call.body), status=201)
