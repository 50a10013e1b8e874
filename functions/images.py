"""Images: metadata, annotations and decrypted content (patients, and clinicians through a share)."""

import azure.functions as func

from shared_code.api.http import ANY_USER, binary_response, endpoint, etag_header, json_response, no_content, parse_if_match
from shared_code.domain.library import IMAGE_PATCH_SCHEMA, size_param
from shared_code.services import library

bp = func.Blueprint()


@bp.route(route="images/{imageId}", methods=["GET"])
@endpoint(roles=ANY_USER)
def get_image(call):
    found = library.get_image(call.services, call.user, call.param("imageId"))
    return json_response(found, headers=etag_header(found.get("etag")))


@bp.route(route="images/{imageId}", methods=["PATCH"])
@endpoint(body=IMAGE_PATCH_SCHEMA)
def update_image(call):
    updated = library.update_image(call.services, call.user, call.param("imageId"), call.body, parse_if_match(call.req.headers.get("If-Match")))
    return json_response(updated, headers=etag_header(updated.get("etag")))


@bp.route(route="images/{imageId}", methods=["DELETE"])
@endpoint()
def delete_image(call):
    library.delete_image(call.services, call.user, call.param("imageId"))
    return no_content()


@bp.route(route="images/{imageId}/content", methods=["GET"])
@endpoint(roles=ANY_USER)
def get_image_content(call):
    data, filename = library.image_content(call.services, call.user, call.param("imageId"), size_param(call.query("size")))
    return binary_response(data, "image/jpeg", filename=filename)
