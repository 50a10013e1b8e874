"""When a patient stops sharing, the clinic's worklist keeps the case for 30 days as "Sharing ended
by the patient on <date>": what the list showed before, no photos, no way in, and an email to the
clinic that says only that."""

from __future__ import annotations

import pytest

from tests.support.email_scan import content_of
from tests.support.library_helpers import build_scene, deliver_all, ok


@pytest.fixture
def scene(client):
    scene = build_scene(client, patient_name="Ines Carraway", patient_email="ines@example.org")
    ok(client.put("/api/me", token=scene.patient.token, json={"nhsNumber": "9434765919", "dateOfBirth": "1970-05-04"}))
    scene.mole = scene.folder("Mole on back", notes="Growing")
    scene.image = scene.photo(scene.mole)
    scene.grant = scene.share(folder_ids=[scene.mole])
    deliver_all(client)
    return scene


def rows(client, scene, query: str = "") -> list[dict]:
    return ok(client.get(f"/api/clinic/cases{query}", token=scene.doctor.token))["items"]


def test_the_case_stays_30_days_marked_ended_with_nothing_but_the_summary(scene, client):
    before = rows(client, scene)[0]
    client.services.clock.advance(days=1)
    ok(client.delete(f"/api/shares/{scene.grant['id']}", token=scene.patient.token))
    (row,) = rows(client, scene)
    assert row["status"] == "sharing-ended" and row["sharingEndedAt"] == "2026-11-28T10:00:00Z"
    assert row["patient"] == before["patient"] == {"displayName": "Ines Carraway", "dateOfBirth": "1970-05-04", "nhsNumber": "9434765919"}
    assert (row["folders"], row["newImageCount"], row["shareExpiresAt"]) == ([], 0, None)
    text = str(row)
    assert scene.mole not in text and scene.image not in text and "Mole on back" not in text
    assert rows(client, scene, "?filter=new") == [] and rows(client, scene, "?filter=awaiting-triage") == []
    for url in (f"/api/clinic/cases/{scene.case_id()}", f"/api/images/{scene.image}", f"/api/folders/{scene.mole}/messages"):
        assert client.get(url, token=scene.doctor.token).status == 404, url
    client.services.clock.advance(days=29, hours=23)
    assert [r["status"] for r in rows(client, scene)] == ["sharing-ended"]
    client.services.clock.advance(hours=2)
    assert rows(client, scene) == []


def test_the_clinic_is_emailed_without_patient_data(scene, client):
    ok(client.delete(f"/api/shares/{scene.grant['id']}", token=scene.patient.token))
    (message,) = deliver_all(client)
    assert message["kind"] == "sharing-ended" and set(message) == {"kind", "clinicId", "caseId", "at"}
    mail = client.services.email.sent[-1]
    assert mail.to == "derm-leeds@nhs.example" and mail.subject == "A patient has stopped sharing photos"
    assert not [v for v in ("Ines", "Carraway", "9434765919", "943 476 5919", "Mole") if v in content_of(mail)]


def test_sharing_again_brings_the_case_back_as_it_was(scene, client):
    ok(client.delete(f"/api/shares/{scene.grant['id']}", token=scene.patient.token))
    scene.share(folder_ids=[scene.mole])
    (row,) = rows(client, scene)
    assert row["status"] == "open" and row["sharingEndedAt"] is None and [f["id"] for f in row["folders"]] == [scene.mole]


def test_a_share_that_runs_out_or_is_replaced_is_not_shown_as_ended_by_the_patient(client):
    scene = build_scene(client)
    scene.share(days=2)
    client.services.clock.advance(days=3)
    assert rows(client, scene) == []
