"""EPR export: request (202), status, download; the package is built by a queue-triggered job."""

import json
import logging

import azure.functions as func

from shared_code import bootstrap, telemetry
from shared_code.api.http import binary_response, endpoint, json_response
from shared_code.auth.principal import CLINICIAN
from shared_code.services import exports, research_exports

bp = func.Blueprint()
log = logging.getLogger("skinvault.functions")
CLINICIANS = {"roles": (CLINICIAN,)}


@bp.route(route="exports", methods=["POST"])
@endpoint(body=exports.EXPORT_SCHEMA, **CLINICIANS)
def request_export(call):
    return json_response(exports.request_export(call.services, call.user, call.body), status=202)


@bp.route(route="exports/{exportId}", methods=["GET"])
@endpoint(**CLINICIANS)
def get_export(call):
    return exports.export_status(call.services, call.user, call.param("exportId"))


@bp.route(route="exports/{exportId}/content", methods=["GET"])
@endpoint(**CLINICIANS)
def get_export_content(call):
    data = exports.export_content(call.services, call.user, call.param("exportId"))
    return binary_response(data, "application/zip", filename=f"skinvault-{call.param('exportId')}.zip")


@bp.queue_trigger(arg_name="msg", queue_name="export-jobs", connection="STORAGE")
def build_export(msg: func.QueueMessage) -> None:
    job = json.loads(msg.get_body())
    builder = research_exports.build if research_exports.is_research_job(job) else exports.build  # one queue, two kinds of export
    with telemetry.resumed(job, "export.build", {"messaging.message.id": msg.id}):  # the requester's trace
        outcome = builder(bootstrap.services(), job)
    log.info("build_export id=%s outcome=%s", msg.id, outcome)
