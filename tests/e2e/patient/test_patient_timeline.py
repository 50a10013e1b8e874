"""A folder's timeline in plain English: quality advice for a poor photo, the reason a photo was not
accepted, and archiving a folder."""

from __future__ import annotations

import io

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from PIL import ImageFilter

from skinvault_client.encryption import upload_encrypted
from tests.e2e.helpers import start_upload
from tests.e2e.patient.helpers import PASSCODE, new_folder, serve_demo_users, sign_in, unique_patient, wait_photo_status, wait_view
from tests.support.images import render_skin

pytestmark = pytest.mark.browser


def blurred_dark_photo() -> bytes:
    image = render_skin(1000, 750, seed=4).filter(ImageFilter.GaussianBlur(12)).point(lambda v: v // 8)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_timeline_shows_quality_advice_and_rejection_reason_and_a_folder_can_be_archived(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    folder_id = new_folder(page, "Leg ulcer", site="left-lower-leg")

    page.set_input_files("#gallery", files=[{"name": "dark.jpg", "mimeType": "image/jpeg", "buffer": blurred_dark_photo()}])
    wait_photo_status(page, "ready")
    advice = page.locator("li.app-timeline__item ul.app-advice").inner_text()
    assert "too dark" in advice and "blurred" in advice

    # a photo wrapped under a key that is not SkinVault's cannot be opened: rejected, with the reason
    foreign = RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(), as_dict=True)
    foreign.update({"kid": "https://elsewhere.example/keys/k/1", "alg": "RSA-OAEP-256"})
    token = stack.token(user["sub"], "patient", user["name"])
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        session = start_upload(api, folder_id, b"x" * 1000)
    upload_encrypted(session["uploadUrl"], b"\xff\xd8\xff\xe0" + b"0" * 1000, foreign)
    page.reload()
    wait_view(page, "unlock")
    page.get_by_label("Passcode", exact=True).fill(PASSCODE)
    page.get_by_role("button", name="Unlock").click()
    wait_view(page, "folder")
    wait_photo_status(page, "rejected")
    rejected = page.locator("li.app-timeline__item[data-status='rejected']")
    assert "Not accepted" in rejected.inner_text()
    reason = httpx.get(f"{stack.base_url}/api/images/{session['uploadId']}", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()[
        "rejectionReason"
    ]
    assert reason and reason in rejected.inner_text()

    page.get_by_role("link", name="Edit or archive this folder").click()
    wait_view(page, "edit-folder")
    page.get_by_role("button", name="Archive folder").click()
    wait_view(page, "home")
    assert page.get_by_test_id("folders").count() == 0 or "Leg ulcer" not in page.get_by_test_id("folders").inner_text()
    page.get_by_text("Archived folders (1)").click()
    assert page.get_by_role("link", name="Leg ulcer").is_visible()
