"""The reconciliation timer function: wired to run every five minutes, and one run does the work."""

from __future__ import annotations

from azure.functions.timer import TimerRequest

from shared_code.ports import PATIENTS
from tests.support.functions_client import all_functions
from tests.support.library_helpers import create_folder, patient_id, start_upload


def _timer_function():
    (fn,) = [f for f in all_functions() if f.get_function_name() == "reconcile"]
    return fn


def test_the_timer_runs_every_five_minutes_without_a_catch_up_storm_at_start_up():
    trigger = _timer_function().get_trigger().get_dict_repr()
    assert trigger["schedule"] == "0 */5 * * * *"
    assert trigger.get("runOnStartup") in (False, None)


def test_one_timer_run_ends_an_upload_session_whose_link_expired_unused(client, patient_token):
    folder = create_folder(client, patient_token, "Mole")["id"]
    image_id, pid = start_upload(client, patient_token, folder), patient_id(client, patient_token)
    client.services.clock.advance(minutes=30)

    _timer_function().get_user_function()(TimerRequest(past_due=True))

    image = client.services.store.read(PATIENTS, pid, image_id)
    assert image["status"] == "rejected"
    assert image["rejectionCode"] == "expired"
