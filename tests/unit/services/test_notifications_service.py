"""notifications.handle against Fake* ports: what is sent, to whom, how often."""

from __future__ import annotations

import pytest

from shared_code.ports import LOOKUPS, DependencyUnavailable
from shared_code.services import notifications, profile
from tests.unit.services.conftest import patient


def new_images(clinic, image_id, case_id="case-1"):
    return {"kind": "new-images", "clinicId": clinic["id"], "caseId": case_id, "imageId": image_id}


def test_first_new_photo_of_a_case_is_sent_and_opens_the_window(services, clinic):
    assert notifications.handle(services, new_images(clinic, "img-1")) == "sent"
    marker = services.store.read(LOOKUPS, "notify-case:case-1", "notify-case:case-1")
    assert (marker["imageId"], marker["sentAt"]) == ("img-1", "2026-11-27T10:00:00Z")
    assert [m.to for m in services.email.sent] == ["derm@nhs.example"]


def test_other_photos_inside_the_window_are_throttled_and_the_window_reopens_after(services, clinic):
    notifications.handle(services, new_images(clinic, "img-1"))
    services.clock.advance(minutes=14, seconds=59)
    assert notifications.handle(services, new_images(clinic, "img-2")) == "throttled"
    services.clock.advance(seconds=1)
    assert notifications.handle(services, new_images(clinic, "img-3")) == "sent"
    assert len(services.email.sent) == 2


def test_a_redelivered_message_sends_the_same_email_id_again_and_the_sender_keeps_one(services, clinic):
    assert notifications.handle(services, new_images(clinic, "img-1")) == "sent"
    services.clock.advance(minutes=1)
    assert notifications.handle(services, new_images(clinic, "img-1")) == "sent"
    assert len(services.email.sent) == 1


def test_the_window_is_claimed_before_sending_so_a_failed_send_is_retried_not_doubled(services, clinic):
    services.email.fail_next = 1
    with pytest.raises(DependencyUnavailable):
        notifications.handle(services, new_images(clinic, "img-1"))
    # another photo arriving meanwhile does not send a second email in the window...
    assert notifications.handle(services, new_images(clinic, "img-2")) == "throttled"
    # ...and the retry of the failed message sends its email
    assert notifications.handle(services, new_images(clinic, "img-1")) == "sent"
    assert len(services.email.sent) == 1


def test_windows_are_per_case(services, clinic):
    assert notifications.handle(services, new_images(clinic, "img-1", case_id="case-1")) == "sent"
    assert notifications.handle(services, new_images(clinic, "img-2", case_id="case-2")) == "sent"
    assert len(services.email.sent) == 2


def test_more_photos_request_goes_to_the_patients_email_or_nowhere(services, clinic):
    with_email, without = patient("p-1", email="p1@example.org"), patient("p-2", email=None)
    for user in (with_email, without):
        profile.get_or_create(services.store, user, services.clock.now())
    base = {"kind": "more-photos-requested", "clinicId": clinic["id"], "caseId": "case-1", "at": "2026-11-27T10:00:00Z"}
    assert notifications.handle(services, {**base, "patientId": with_email.patient_id}) == "sent"
    assert notifications.handle(services, {**base, "caseId": "case-2", "patientId": without.patient_id}) == "skipped"
    assert notifications.handle(services, {**base, "caseId": "case-3", "patientId": "pt-unknown"}) == "skipped"
    assert [m.to for m in services.email.sent] == ["p1@example.org"]


def test_every_email_says_it_carries_no_patient_details_and_links_to_sign_in(services, clinic):
    notifications.handle(services, {"kind": "share-granted", "clinicId": clinic["id"], "shareId": "shr-1", "caseId": "case-1"})
    notifications.handle(services, new_images(clinic, "img-1"))
    for mail in services.email.sent:
        assert "no patient details" in mail.text
        assert "http://127.0.0.1:7071/" in mail.text
        assert mail.message_id.startswith("mail-")


@pytest.mark.parametrize("message", [{}, {"kind": "new-images", "clinicId": "cln-gone", "caseId": "c", "imageId": "i"}, {"kind": 3}])
def test_messages_that_cannot_be_acted_on_are_skipped(services, clinic, message):
    assert notifications.handle(services, message) == "skipped"
    assert services.email.sent == []


@pytest.mark.parametrize(
    "kind",
    ["clinic-message", "patient-reply", "invitation", "sharing-ended"],
)
def test_conversation_messages_without_their_ids_are_skipped(services, clinic, kind):
    assert notifications.handle(services, {"kind": kind, "clinicId": clinic["id"]}) == "skipped"
    assert notifications.handle(services, {"kind": kind, "clinicId": clinic["id"], "patientId": 3, "caseId": ""}) == "skipped"
    assert services.email.sent == []
