"""Folders of photos: /api/folders and /api/folders/{folderId}."""

import azure.functions as func

from shared_code.api.http import ANY_USER, endpoint, etag_header, json_response, no_content, parse_if_match
from shared_code.auth.principal import CLINICIAN, PATIENT
from shared_code.domain.library import FOLDER_CREATE_SCHEMA, FOLDER_PATCH_SCHEMA
from shared_code.services import library

bp = func.Blueprint()


@bp.route(route="folders", methods=["GET"])
@endpoint()
def list_folders(call):
    return library.list_folders(call.services, call.user, *call.paging())


@bp.route(route="folders", methods=["POST"])
@endpoint(body=FOLDER_CREATE_SCHEMA)
def create_folder(call):
    return json_response(library.create_folder(call.services, call.user, call.body), status=201)


@bp.route(route="folders/{folderId}", methods=["GET"])
@endpoint(roles=(PATIENT, CLINICIAN))
def get_folder(call):
    found = library.get_folder(call.services, call.user, call.param("folderId"))
    return json_response(found, headers=etag_header(found.get("etag")))


@bp.route(route="folders/{folderId}", methods=["PATCH"])
@endpoint(body=FOLDER_PATCH_SCHEMA)
def update_folder(call):
    updated = library.update_folder(call.services, call.user, call.param("folderId"), call.body, parse_if_match(call.req.headers.get("If-Match")))
    return json_response(updated, headers=etag_header(updated.get("etag")))


@bp.route(route="folders/{folderId}", methods=["DELETE"])
@endpoint()
def delete_folder(call):
    library.delete_folder(call.services, call.user, call.param("folderId"))
    return no_content()


@bp.route(route="folders/{folderId}/images", methods=["GET"])
@endpoint(roles=ANY_USER)
def list_folder_images(call):
    return library.list_images(call.services, call.user, call.param("folderId"), *call.paging())
