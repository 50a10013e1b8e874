"""Seed the local demo over the API (idempotent): a clinic, its clinician, an admin, and a patient
with real-looking photos in two folders over several dates, shared with the clinic.

    python -m scripts.seed_demo [--api http://127.0.0.1:7071]

Everything goes through the public API and the phone's encryption path, exactly as the app would.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "client"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

DEMO_CLINIC = {"name": "Newcastle Dermatology", "odsCode": "RTD", "notificationEmail": "dermatology.rtd@nhs.example", "shareCode": "NEWC-DERM"}
DEMO_ADMIN = {"sub": "demo-admin", "name": "Demo Admin", "role": "admin"}
DEMO_CLINICIAN = {"sub": "demo-clinician", "name": "Dr Demo Clinician", "role": "clinician", "email": "demo.clinician@nhs.example"}
DEMO_PATIENT = {"sub": "demo-patient", "name": "Alex Demo", "role": "patient", "email": "alex.demo@example.org"}
DEMO_PROFILE = {"displayName": "Alex Demo", "dateOfBirth": "1978-04-12", "nhsNumber": "9434765919"}
DEMO_FOLDERS = (
    (
        {
            "name": "Mole on left forearm",
            "bodySite": "left-forearm",
            "condition": "Changing mole",
            "treatment": "None yet",
            "notes": "Noticed it getting darker in spring.",
        },
        ((120, "Looks the same as last year"), (60, "A bit darker at one edge"), (7, "Itchy this week")),
    ),
    (
        {
            "name": "Psoriasis on elbows",
            "bodySite": "left-elbow",
            "condition": "Plaque psoriasis",
            "treatment": "Calcipotriol ointment",
            "notes": "Started the ointment in August.",
        },
        ((90, "Before starting the ointment"), (30, "Four weeks on the ointment"), (2, "Much less scaly")),
    ),
)


DEMO_LESION_HISTORY = {
    "duration": "6-12-months",
    "changedSize": "yes",
    "changedShape": "no",
    "changedColour": "yes",
    "bleeding": "no",
    "itching": "yes",
    "personalHistory": "no",
    "familyHistory": "not-sure",
    "skinType": "II",
}


def _token(api: httpx.Client, user: dict[str, str]) -> str:
    r = api.post("/api/dev/token", json=user)
    r.raise_for_status()
    return r.json()["access_token"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:300]}")
    return r.json() if r.content else None


def _upload_photos(base_url: str, token: str, folder_id: str, photos: list[tuple[bytes, str, str]]) -> list[str]:
    """Upload (data, capturedAt, notes) through the client SDK, exactly as the phone does; all must be ready."""
    from skinvault_client.api import SkinVaultClient
    from skinvault_client.uploader import PhotoUploader

    with SkinVaultClient(base_url, token) as client:
        uploader = PhotoUploader(client)
        results = [uploader.upload_bytes(data, folder_id, source="demo photo", notes=notes, captured_at=when) for data, when, notes in photos]
    bad = [r for r in results if r.status != "ready"]
    if bad:
        raise RuntimeError(f"{len(bad)} demo photos were not accepted: {bad[0].status} ({bad[0].reason})")
    return [r.image_id or "" for r in results]


def seed(base_url: str, *, quiet: bool = False, photos: bool = True) -> dict[str, Any]:
    say = (lambda *_: None) if quiet else print
    with httpx.Client(base_url=base_url, timeout=60) as api:
        admin = _token(api, DEMO_ADMIN)
        clinics = _ok(api.get("/api/manage/clinics", headers=_auth(admin)))["items"]
        clinic = next((c for c in clinics if c["shareCode"] == DEMO_CLINIC["shareCode"]), None)
        if clinic is None:
            clinic = _ok(api.post("/api/manage/clinics", headers=_auth(admin), json=DEMO_CLINIC))
            say(f"seeded clinic {clinic['name']} ({clinic['odsCode']}), share code {clinic['shareCode']}")
        member = {k: DEMO_CLINICIAN[k] for k in ("sub", "name", "email")}
        _ok(api.post(f"/api/manage/clinics/{clinic['id']}/members", headers=_auth(admin), json=member))

        patient = _token(api, DEMO_PATIENT)
        _ok(api.put("/api/me", headers=_auth(patient), json=DEMO_PROFILE))
        folders = _ok(api.get("/api/folders", headers=_auth(patient)))["items"]
        image_ids: list[str] = []
        if not folders:
            from tests.support.images import make_photo

            now = datetime.now(UTC).replace(microsecond=0)
            for f_index, (folder_body, shots) in enumerate(DEMO_FOLDERS):
                folder = _ok(api.post("/api/folders", headers=_auth(patient), json=folder_body))
                folders.append(folder)
                if f_index == 0:  # the patient's answers to the lesion-history questions, shown in the case
                    _ok(api.put(f"/api/folders/{folder['id']}/lesion-history", headers=_auth(patient), json=DEMO_LESION_HISTORY))
                if not photos:
                    continue
                shots_data = []
                for s_index, (days_ago, notes) in enumerate(shots):
                    when = now - timedelta(days=days_ago, hours=s_index)
                    data = make_photo(1600, 1200, seed=10 * f_index + s_index, captured_at=when, gps=True)
                    shots_data.append((data, when.isoformat().replace("+00:00", "Z"), notes))
                image_ids += _upload_photos(base_url, patient, folder["id"], shots_data)
            say(f"seeded {len(folders)} folders with {len(image_ids)} photos for the demo patient")

        shares = _ok(api.get("/api/shares", headers=_auth(patient)))["items"]
        share = next((s for s in shares if s["clinicId"] == clinic["id"] and s["state"] == "active"), None)
        if share is None:
            text = _ok(api.get("/api/consent-text", params={"clinicId": clinic["id"]}, headers=_auth(patient)))
            expires = (datetime.now(UTC) + timedelta(days=180)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
            share = _ok(
                api.post(
                    "/api/shares",
                    headers=_auth(patient),
                    json={
                        "clinicId": clinic["id"],
                        "allFolders": True,
                        "purposes": ["direct-care"],
                        "expiresAt": expires,
                        "consent": {"textVersion": text["version"], "accepted": True},
                    },
                )
            )
            say("seeded a share from the demo patient to the demo clinic")
        clinician = _token(api, {k: DEMO_CLINICIAN[k] for k in ("sub", "name", "role")})
        cases = _ok(api.get("/api/clinic/cases", headers=_auth(clinician)))["items"]
    return {
        "clinicId": clinic["id"],
        "shareCode": clinic["shareCode"],
        "shareId": share["id"],
        "caseId": cases[0]["caseId"] if cases else None,
        "folderIds": [f["id"] for f in folders],
        "imageIds": image_ids,
        "users": {"admin": DEMO_ADMIN, "clinician": DEMO_CLINICIAN, "patient": DEMO_PATIENT},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:7071")
    args = parser.parse_args()
    try:
        seed(args.api)
    except (httpx.HTTPError, RuntimeError) as exc:
        print(f"error: seeding the demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
