"""Timer trigger: every five minutes, finish what was left unfinished and remove what nothing refers to."""

import logging

import azure.functions as func

from shared_code import bootstrap
from shared_code.services import reconciliation

bp = func.Blueprint()
log = logging.getLogger("skinvault.functions")


@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False, use_monitor=True)
def reconcile(timer: func.TimerRequest) -> None:
    counts = reconciliation.run(bootstrap.services())
    log.info("reconcile finished past_due=%s outcomes=%s", timer.past_due, counts)
