"""The patient's notification address: send a code to an address, then confirm it."""

import azure.functions as func

from shared_code.api.http import endpoint, json_response
from shared_code.services import email_verification

bp = func.Blueprint()


@bp.route(route="me/email-verification", methods=["POST"])
@endpoint(body=email_verification.REQUEST_SCHEMA)
def request_email_verification(call):
    status, body = email_verification.request_code(call.services, call.user, call.body["email"])
    return json_response(body, status=status)  # status=200 (the token's own address) or status=202 (a code was sent)


@bp.route(route="me/email-verification/confirm", methods=["POST"])
@endpoint(body=email_verification.CONFIRM_SCHEMA)
def confirm_email_verification(call):
    return email_verification.confirm_code(call.services, call.user, call.body["code"])
