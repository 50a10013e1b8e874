"""Queue trigger: notification emails (retried by the host; poison queue after 5 attempts)."""

import json
import logging

import azure.functions as func

from shared_code import bootstrap, telemetry
from shared_code.services import notifications

bp = func.Blueprint()
log = logging.getLogger("skinvault.functions")


@bp.queue_trigger(arg_name="msg", queue_name="notifications", connection="STORAGE")
def send_notification(msg: func.QueueMessage) -> None:
    try:
        message = json.loads(msg.get_body())
    except ValueError:
        log.warning("notification message is not JSON: dropped id=%s", msg.id)
        return
    with telemetry.resumed(message, "notification.send", {"messaging.message.id": msg.id}):  # the sender's trace
        outcome = notifications.handle(bootstrap.services(), message)
    log.info("send_notification id=%s outcome=%s", msg.id, outcome)
