"""access.py: who may read a patient's folder or photo, decided (and audited) at every read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared_code.auth.principal import ADMIN, Principal
from shared_code.domain.common import iso
from shared_code.domain.errors import NotFoundError
from shared_code.ports import AUDIT, PATIENTS
from shared_code.services import access, consent, library, sharing
from tests.unit.services.conftest import ISSUER, clinician, patient

ALICE = patient()


@pytest.fixture
def library_of_alice(services):
    mole = library.create_folder(services, ALICE, {"name": "Mole"})["id"]
    rash = library.create_folder(services, ALICE, {"name": "Rash"})["id"]
    image = library.start_upload(services, ALICE, mole, {"contentType": "image/jpeg", "sizeBytes": 10})["uploadId"]
    doc = services.store.read(PATIENTS, ALICE.patient_id, image)
    doc["status"] = "ready"
    services.store.replace(PATIENTS, doc, if_match=doc["_etag"])
    return {"mole": mole, "rash": rash, "image": image}


def share_with(services, clinic_id, folder_ids, days=30):
    body = {
        "clinicId": clinic_id,
        "folderIds": folder_ids,
        "purposes": ["direct-care"],
        "expiresAt": iso(services.clock.now() + timedelta(days=days)),
        "consent": {"textVersion": consent.current_version(), "accepted": True},
    }
    return sharing.grant(services, ALICE, body)


def audit_count(services):
    return services.store.count(AUDIT, ALICE.patient_id)


def test_the_owner_reads_without_an_audit_entry(services, library_of_alice):
    image, acc = access.image_for(services, ALICE, library_of_alice["image"])
    assert image["id"] == library_of_alice["image"] and acc.share is None
    assert audit_count(services) == 0


@pytest.mark.parametrize(
    "who",
    [patient("patient-b"), Principal(kind=ADMIN, sub="admin-1", issuer=ISSUER), clinician("doc-x"), clinician("doc-y", "cln-unrelated")],
    ids=["other-patient", "admin", "clinician-of-no-clinic", "clinician-of-another-clinic"],
)
def test_anyone_else_gets_not_found_and_nothing_is_audited(services, clinic, library_of_alice, who):
    share_with(services, clinic["id"], [library_of_alice["mole"]])
    before = audit_count(services)
    with pytest.raises(NotFoundError):
        access.image_for(services, who, library_of_alice["image"])
    with pytest.raises(NotFoundError):
        access.folder_for(services, who, library_of_alice["mole"])
    assert audit_count(services) == before


def test_a_clinician_reads_through_an_active_covering_share_and_each_read_is_audited(services, clinic, library_of_alice):
    shared = share_with(services, clinic["id"], [library_of_alice["mole"]])
    doc = clinician("doc-1", clinic["id"])
    before = audit_count(services)
    image, acc = access.image_for(services, doc, library_of_alice["image"], action="viewed-image-content")
    assert acc.share["id"] == shared["id"] and acc.clinic_id == clinic["id"]
    (entry,) = [a for a in services.store.query(AUDIT, ALICE.patient_id, limit=50).items if a["action"] == "viewed-image-content"]
    assert (entry["actorId"], entry["clinicId"], entry["targetId"]) == ("doc-1", clinic["id"], image["id"])
    assert audit_count(services) == before + 1


def test_a_share_that_does_not_cover_the_folder_gives_not_found(services, clinic, library_of_alice):
    share_with(services, clinic["id"], [library_of_alice["rash"]])
    doc = clinician("doc-1", clinic["id"])
    with pytest.raises(NotFoundError):
        access.image_for(services, doc, library_of_alice["image"])
    folder, _ = access.folder_for(services, doc, library_of_alice["rash"])
    assert folder["name"] == "Rash"


def test_an_expired_or_revoked_share_gives_not_found_from_that_moment(services, clinic, library_of_alice):
    shared = share_with(services, clinic["id"], [library_of_alice["mole"]], days=1)
    doc = clinician("doc-1", clinic["id"])
    access.image_for(services, doc, library_of_alice["image"])
    services.clock.advance(days=1)
    with pytest.raises(NotFoundError):
        access.image_for(services, doc, library_of_alice["image"])
    services.clock.advance(days=-1)
    sharing.revoke(services, ALICE, shared["id"])
    with pytest.raises(NotFoundError):
        access.image_for(services, doc, library_of_alice["image"])


def test_a_photo_that_is_not_ready_is_invisible_to_clinicians_and_not_audited(services, clinic, library_of_alice):
    pending = library.start_upload(services, ALICE, library_of_alice["mole"], {"contentType": "image/jpeg", "sizeBytes": 10})["uploadId"]
    share_with(services, clinic["id"], [library_of_alice["mole"]])
    before = audit_count(services)
    with pytest.raises(NotFoundError):
        access.image_for(services, clinician("doc-1", clinic["id"]), pending)
    assert audit_count(services) == before
    image, _ = access.image_for(services, ALICE, pending)
    assert image["status"] == "pending"


def test_unknown_ids_are_not_found_for_everyone(services):
    for who in (ALICE, clinician("doc-1", "cln-1")):
        with pytest.raises(NotFoundError):
            access.image_for(services, who, "img-unknown")
        with pytest.raises(NotFoundError):
            access.folder_for(services, who, "fld-unknown")
