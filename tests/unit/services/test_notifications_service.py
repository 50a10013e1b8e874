"""notifications.handle against Fake* ports: what is sent, to whom, how often."""

from __future__ import annotations

import pytest

from shared_code.ports import CLINICS, LOOKUPS, PATIENTS, DependencyUnavailable
from shared_code.services import notifications, profile
from tests.unit.services.conftest import patient


def new_images(clinic, image_id, case_id="case-1"):
    return {"kind": "new-images", "clinicId": clinic["id"], "caseId": case_id, "imageId": image_id}


def seed_case(services, clinic, case_id, patient_id, *, share_id="shr-1", images=("img-1", "img-2", "img-3"), revoked=False):
    """What a real message refers to (messages are checked against the store before anything is sent):
    the clinic's case, the patient's active share with the clinic, and ready photos."""
    store = services.store
    store.upsert(CLINICS, {"id": case_id, "clinicId": clinic["id"], "type": "case", "patientId": patient_id, "active": True})
    share = {"id": share_id, "patientId": patient_id, "type": "share", "clinicId": clinic["id"], "allFolders": True, "folderIds": None}
    share.update({"grantedAt": "2026-11-27T09:00:00Z", "expiresAt": "2027-11-27T09:00:00Z", "revokedAt": "2026-11-27T09:30:00Z" if revoked else None})
    store.upsert(PATIENTS, share)
    for image_id in images:
        store.upsert(PATIENTS, {"id": image_id, "patientId": patient_id, "type": "image", "status": "ready", "folderId": "fld-1"})


@pytest.fixture(autouse=True)
def cases(services, clinic):
    seed_case(services, clinic, "case-1", "pt-a")
    seed_case(services, clinic, "case-2", "pt-b", share_id="shr-2")


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
    seed_case(services, clinic, "case-m1", with_email.patient_id)
    seed_case(services, clinic, "case-m2", without.patient_id)
    seed_case(services, clinic, "case-m3", "pt-unknown")
    base = {"kind": "more-photos-requested", "clinicId": clinic["id"], "caseId": "case-m1", "at": "2026-11-27T10:00:00Z"}
    assert notifications.handle(services, {**base, "patientId": with_email.patient_id}) == "sent"
    assert notifications.handle(services, {**base, "caseId": "case-m2", "patientId": without.patient_id}) == "skipped"
    assert notifications.handle(services, {**base, "caseId": "case-m3", "patientId": "pt-unknown"}) == "skipped"
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


# ----------------------------------------------------------------------------- checked against the store
@pytest.mark.parametrize(
    "message",
    [
        {"kind": "share-granted", "clinicId": "CLINIC", "shareId": "shr-forged", "caseId": "case-1"},
        {"kind": "share-granted", "clinicId": "CLINIC", "shareId": "shr-1", "caseId": "case-forged"},
        {"kind": "share-granted", "clinicId": "CLINIC", "shareId": "shr-2", "caseId": "case-1"},  # another patient's share
        {"kind": "share-granted", "clinicId": "CLINIC", "shareId": "shr/../x", "caseId": "case-1"},
        {"kind": "new-images", "clinicId": "CLINIC", "caseId": "case-1", "imageId": "img-forged"},
        {"kind": "new-images", "clinicId": "CLINIC", "caseId": "case-1", "imageId": ["img-1"]},
        {"kind": "more-photos-requested", "clinicId": "CLINIC", "caseId": "case-1", "patientId": "pt-b", "at": "x"},
    ],
)
def test_a_forged_message_is_dropped_and_logged_by_id_without_an_email(services, clinic, message, caplog):
    message = {k: (clinic["id"] if v == "CLINIC" else v) for k, v in message.items()}
    with caplog.at_level("WARNING", logger="skinvault.notifications"):
        assert notifications.handle(services, message) == "skipped"
    assert services.email.sent == []
    (record,) = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert "caseId=case-" in record.getMessage()


def test_a_share_revoked_before_its_email_goes_sends_nothing(services, clinic):
    seed_case(services, clinic, "case-r", "pt-r", share_id="shr-r", revoked=True)
    message = {"kind": "share-granted", "clinicId": clinic["id"], "shareId": "shr-r", "caseId": "case-r"}
    assert notifications.handle(services, message) == "skipped"
    assert notifications.handle(services, new_images(clinic, "img-1", case_id="case-r")) == "skipped"
    assert services.email.sent == []
