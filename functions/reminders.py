"""Photo reminders per folder (HTTP, the patient's), and the timer that emails those that are due."""

import logging

import azure.functions as func

from shared_code import bootstrap
from shared_code.api.http import endpoint, no_content
from shared_code.services import reminders

bp = func.Blueprint()
log = logging.getLogger("skinvault.functions")

# NCRONTAB (seconds first): at the start of every hour. Each due date is emailed once however often it runs.
REMINDER_SCHEDULE = "0 0 * * * *"


@bp.route(route="reminders", methods=["GET"])
@endpoint()
def list_reminders(call):
    return reminders.list_reminders(call.services, call.user)


@bp.route(route="folders/{folderId}/reminder", methods=["PUT"])
@endpoint(body=reminders.REMINDER_SCHEMA)
def set_folder_reminder(call):
    return reminders.set_reminder(call.services, call.user, call.param("folderId"), call.body["every"])


@bp.route(route="folders/{folderId}/reminder", methods=["DELETE"])
@endpoint()
def remove_folder_reminder(call):
    reminders.remove_reminder(call.services, call.user, call.param("folderId"))
    return no_content()


@bp.timer_trigger(schedule=REMINDER_SCHEDULE, arg_name="timer", run_on_startup=False, use_monitor=True)
def send_due_reminders(timer: func.TimerRequest) -> None:
    counts = reminders.send_due(bootstrap.services())
    log.info("send_due_reminders past_due=%s counts=%s", timer.past_due, counts)
