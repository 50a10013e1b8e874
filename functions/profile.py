"""The patient's own profile: GET/PUT /api/me."""

import azure.functions as func

from shared_code.api.http import endpoint, no_content, part_response
from shared_code.domain.profile import PROFILE_SCHEMA
from shared_code.services import account, profile

bp = func.Blueprint()


@bp.route(route="me", methods=["GET"])
@endpoint()
def get_me(call):
    return profile.profile_view(profile.get_or_create(call.services.store, call.user, call.services.clock.now()))


@bp.route(route="me", methods=["PUT"])
@endpoint(body=PROFILE_SCHEMA)
def put_me(call):
    return profile.profile_view(profile.update(call.services.store, call.user, call.body, call.services.clock.now()))


@bp.route(route="me", methods=["DELETE"])
@endpoint()
def erase_me(call):
    account.erase(call.services, call.user)
    return no_content()


@bp.route(route="me/export", methods=["GET"])
@endpoint()
def export_me(call):
    data, part = account.export_everything_part(call.services, call.user, call.req.headers.get("Range"))
    return part_response(data, "application/zip", part.content_range if part else None, filename="skinvault-export.zip")
