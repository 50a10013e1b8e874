"""Clinic comments on photos and folders."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.auth.principal import CLINICIAN, PATIENT
from shared_code.services import comments

bp = func.Blueprint()
READERS = {"roles": (PATIENT, CLINICIAN)}


@bp.route(route="images/{imageId}/comments", methods=["GET"])
@endpoint(**READERS)
def list_image_comments(call):
    return comments.list_comments(call.services, call.user, "image", call.param("imageId"))


@bp.route(route="images/{imageId}/comments", methods=["POST"])
@endpoint(body=comments.COMMENT_SCHEMA, **READERS)
def add_image_comment(call):
    return json_response(comments.add_comment(call.services, call.user, "image", call.param("imageId"), call.body["text"]), status=201)


@bp.route(route="folders/{folderId}/comments", methods=["GET"])
@endpoint(**READERS)
def list_folder_comments(call):
    return comments.list_comments(call.services, call.user, "folder", call.param("folderId"))


@bp.route(route="folders/{folderId}/comments", methods=["POST"])
@endpoint(body=comments.COMMENT_SCHEMA, **READERS)
def add_folder_comment(call):
    return json_response(comments.add_comment(call.services, call.user, "folder", call.param("folderId"), call.body["text"]), status=201)
