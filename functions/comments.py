"""The conversation: clinic comments on photos and folders, the patient's replies, each folder's messages."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.auth.principal import CLINICIAN, PATIENT
from shared_code.services import comments

bp = func.Blueprint()
READERS = {"roles": (PATIENT, CLINICIAN)}


@bp.route(route="images/{imageId}/comments", methods=["GET"])
@endpoint(**READERS)
def list_image_comments(call):
    return comments.list_comments(call.services, call.user, "image", call.param("imageId"), *call.paging())


@bp.route(route="images/{imageId}/comments", methods=["POST"])
@endpoint(body=comments.COMMENT_SCHEMA, **READERS)
def add_image_comment(call):
    body = call.body
    return json_response(
        comments.add_comment(call.services, call.user, "image", call.param("imageId"), body["text"], body.get("clinicId")), status=201
    )


@bp.route(route="folders/{folderId}/comments", methods=["GET"])
@endpoint(**READERS)
def list_folder_comments(call):
    return comments.list_comments(call.services, call.user, "folder", call.param("folderId"), *call.paging())


@bp.route(route="folders/{folderId}/comments", methods=["POST"])
@endpoint(body=comments.COMMENT_SCHEMA, **READERS)
def add_folder_comment(call):
    body = call.body
    return json_response(
        comments.add_comment(call.services, call.user, "folder", call.param("folderId"), body["text"], body.get("clinicId")), status=201
    )


@bp.route(route="folders/{folderId}/messages", methods=["GET"])
@endpoint(**READERS)
def list_folder_messages(call):
    return comments.folder_messages(call.services, call.user, call.param("folderId"))


@bp.route(route="messages", methods=["GET"])
@endpoint(roles=(PATIENT,))
def list_my_messages(call):
    return comments.inbox(call.services, call.user, *call.paging())
