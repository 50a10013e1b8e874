"""sharing.py use cases against Fake* ports: granting, replacing, revoking, noting expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared_code.domain.common import iso
from shared_code.domain.errors import RuleViolation
from shared_code.ports import AUDIT, CLINICS, PATIENTS, PreconditionFailed
from shared_code.services import clinics, consent, library, sharing
from tests.fakes.store import FakeMetadataStore
from tests.unit.services.conftest import patient

ALICE = patient()


def grant(services, clinic_id, *, days=30, **extra):
    body = {
        "clinicId": clinic_id,
        "purposes": ["direct-care"],
        "expiresAt": iso(services.clock.now() + timedelta(days=days)),
        "consent": {"textVersion": consent.current_version(), "accepted": True},
        "allFolders": True,
        **extra,
    }
    return sharing.grant(services, ALICE, body)


def actions(services):
    return sorted(a["action"] for a in services.store.query(AUDIT, ALICE.patient_id, limit=200).items)


class StaleShareWrites(FakeMetadataStore):
    """Every write of a share loses a race with another writer (its ETag is always stale)."""

    def replace(self, container, doc, *, if_match):
        if doc.get("type") == "share" and if_match is not None:
            raise PreconditionFailed("someone else wrote first")
        return super().replace(container, doc, if_match=if_match)


def test_a_revoke_that_could_not_be_stored_is_an_error_not_a_silent_success(services, clinic):
    shared = grant(services, clinic["id"])
    stale = StaleShareWrites()
    stale._tables = services.store._tables  # same data, contended writes
    services.store = stale
    with pytest.raises(PreconditionFailed):
        sharing.revoke(services, ALICE, shared["id"])
    stored = stale.read(PATIENTS, ALICE.patient_id, shared["id"])
    assert stored["revokedAt"] is None
    assert "share-revoked" not in actions(services)


def test_a_new_share_replaces_the_active_one_with_the_same_clinic_only(services, clinic):
    other = clinics.create_clinic(services.store, {"name": "Other", "odsCode": "RX1", "notificationEmail": "o@nhs.example"}, services.clock.now())
    first = grant(services, clinic["id"])
    elsewhere = grant(services, other["id"])
    services.clock.advance(seconds=1)
    second = grant(services, clinic["id"])
    states = {s["id"]: (s["state"], s["endReason"]) for s in sharing.list_shares(services, ALICE, 50, None)["items"]}
    assert states == {first["id"]: ("revoked", "replaced"), elsewhere["id"]: ("active", None), second["id"]: ("active", None)}


def test_shares_granted_in_the_same_instant_leave_exactly_one_active(services, clinic):
    # With equal grantedAt the id decides which is "newest": any one may stay, but only one.
    shares = {grant(services, clinic["id"])["id"] for _ in range(3)}  # the fixed clock does not move
    listed = sharing.list_shares(services, ALICE, 50, None)["items"]
    assert {s["id"] for s in listed} == shares
    assert [s["state"] for s in listed].count("active") == 1


def test_revoking_the_last_share_closes_the_case_and_a_new_share_reopens_it_as_new(services, clinic):
    shared = grant(services, clinic["id"])
    case_id = sharing.case_id_for(clinic["id"], ALICE.patient_id)
    case = services.store.read(CLINICS, clinic["id"], case_id)
    assert (case["active"], case["hasNew"], case["awaitingTriage"]) == (True, True, True)
    sharing.revoke(services, ALICE, shared["id"])
    ended = services.store.read(CLINICS, clinic["id"], case_id)
    assert ended["sharingEndedAt"] and ended["hasNew"] is False  # on the worklist as "sharing ended" for 30 days
    case = services.store.read(CLINICS, clinic["id"], case_id)
    case["hasNew"] = False
    services.store.replace(CLINICS, case, if_match=case["_etag"])
    grant(services, clinic["id"])
    case = services.store.read(CLINICS, clinic["id"], case_id)
    assert (case["active"], case["hasNew"]) == (True, True)


def test_note_expiries_records_each_expired_share_once_and_closes_its_case(services, clinic):
    grant(services, clinic["id"], days=1)
    services.clock.advance(days=2)
    sharing.note_expiries(services, ALICE.patient_id)
    sharing.note_expiries(services, ALICE.patient_id)
    assert actions(services).count("share-expired") == 1
    case = services.store.read(CLINICS, clinic["id"], sharing.case_id_for(clinic["id"], ALICE.patient_id))
    assert case["active"] is False


def test_only_own_folders_can_be_shared(services, clinic):
    bea = patient("patient-b")
    theirs = library.create_folder(services, bea, {"name": "Bea's folder"})["id"]
    with pytest.raises(RuleViolation, match="own folders"):
        grant(services, clinic["id"], allFolders=False, folderIds=[theirs])
    assert services.store.query(PATIENTS, ALICE.patient_id, where={"type": "share"}).items == []
