"""The patient's library over HTTP to the local host, with Azurite and the upload blob trigger."""

from __future__ import annotations

import base64
import io
import json
import zipfile

from azure.storage.blob import BlobServiceClient
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from PIL import Image

from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.ports import PATIENTS
from tests.e2e.helpers import Patient, ok, start_upload, upload_photo, wait_for
from tests.support.images import make_photo

JPEG_MAGIC = b"\xff\xd8\xff"


def _blobs(stack, container):
    service = BlobServiceClient.from_connection_string(stack.azurite.connection_string)
    return service, service.get_container_client(container)


def test_jpeg_png_and_heic_uploads_become_ready_and_view_as_jpeg(stack):
    p = Patient(stack)
    ids = []
    for fmt, ctype in (("JPEG", "image/jpeg"), ("PNG", "image/png"), ("HEIF", "image/heic")):
        ids.append(upload_photo(p.api, p.folder["id"], make_photo(800, 600, fmt=fmt, seed=3), content_type=ctype, prepare=fmt != "PNG"))
    for image_id in ids:
        image = wait_for(p.api, image_id)
        assert image["status"] == "ready", image
        assert (image["width"], image["height"]) == (800, 600)
        for size, longest in (("thumbnail", 256), ("preview", 800), ("original", 800)):
            r = p.api.get(f"/api/images/{image_id}/content", params={"size": size})
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
            assert r.headers["cache-control"] == "no-store"
            assert max(Image.open(io.BytesIO(r.content)).size) == longest
    listed = ok(p.api.get(f"/api/folders/{p.folder['id']}/images"))["items"]
    assert {i["id"] for i in listed} == set(ids)


class _StockAesKeyWrap:
    """A key-encryption key for the stock SDK made from a raw AES key with `cryptography` alone."""

    def __init__(self, kid: str, key: bytes) -> None:
        self.kid, self.key = kid, key

    def get_kid(self) -> str:
        return self.kid

    def get_key_wrap_algorithm(self) -> str:
        return "A256KW"

    def wrap_key(self, key: bytes) -> bytes:
        raise NotImplementedError

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
        assert algorithm == "A256KW"
        return aes_key_unwrap(self.key, key)


def test_stored_blobs_are_v2_ciphertext_that_stock_sdk_decrypts_with_the_kek_wrapped_patient_key(stack):
    p = Patient(stack)
    image_id = upload_photo(p.api, p.folder["id"], make_photo(640, 480, seed=5))
    assert wait_for(p.api, image_id)["status"] == "ready"
    service, images = _blobs(stack, "images")
    names = [b.name for b in images.list_blobs(name_starts_with=f"{p.profile['id']}/{image_id}/")]
    assert sorted(n.rsplit("/", 1)[1] for n in names) == ["original.jpg", "preview.jpg", "thumbnail.jpg"]
    # key hierarchy: the KEK unwraps the patient's data key (kept in their metadata), which unwraps each blob's content key
    kek = LocalKekProvider(str(stack.workdir / "kek.pem"))
    wrapped_data_key = SqliteMetadataStore(str(stack.workdir / "skinvault.db")).read(PATIENTS, p.profile["id"], "datakey")
    data_key = kek.resolve(wrapped_data_key["kekKid"]).unwrap_key(base64.b64decode(wrapped_data_key["wrappedKey"]), "RSA-OAEP-256")
    stock = BlobServiceClient.from_connection_string(
        stack.azurite.connection_string,
        require_encryption=True,
        encryption_version="2.0",
        key_resolver_function=lambda kid: _StockAesKeyWrap(kid, data_key),
    )
    for name in names:
        raw = images.download_blob(name).readall()
        meta = json.loads(images.get_blob_client(name).get_blob_properties().metadata["encryptiondata"])
        assert meta["EncryptionAgent"] == {"Protocol": "2.0", "EncryptionAlgorithm": "AES_GCM_256"}
        plain = stock.get_blob_client("images", name).download_blob().readall()
        assert plain.startswith(JPEG_MAGIC)
        # no stretch of the photo is stored in the clear (3 magic bytes alone turn up in random data by chance)
        assert not raw.startswith(JPEG_MAGIC)
        for at in (0, len(plain) // 2, len(plain) - 32):
            assert plain[at : at + 32] not in raw
    # nothing readable is left in any container: every blob is v2 ciphertext, none starts like a JPEG
    for container in ("uploads", "images", "exports"):
        for blob in service.get_container_client(container).list_blobs(include=["metadata"]):
            assert "encryptiondata" in (blob.metadata or {}), (container, blob.name)
            head = service.get_blob_client(container, blob.name).download_blob(offset=0, length=16).readall()
            assert not head.startswith(JPEG_MAGIC) and not head.startswith(b"PK")


def test_gps_never_reaches_the_server(stack):
    p = Patient(stack)
    image_id = upload_photo(p.api, p.folder["id"], make_photo(640, 480, seed=6, gps=True))
    assert wait_for(p.api, image_id)["status"] == "ready"
    original = p.api.get(f"/api/images/{image_id}/content", params={"size": "original"}).content
    assert b"GPS" not in original and not Image.open(io.BytesIO(original)).getexif()


def test_a_plaintext_upload_is_rejected_and_leaves_no_blob(stack):
    p = Patient(stack)
    data = make_photo(320, 240, seed=7)
    session = start_upload(p.api, p.folder["id"], data)
    from azure.storage.blob import BlobClient

    BlobClient.from_blob_url(session["uploadUrl"]).upload_blob(data, overwrite=True)
    image = wait_for(p.api, session["uploadId"])
    assert image["status"] == "rejected"
    assert "encryption" in image["rejectionReason"]
    service, uploads = _blobs(stack, "uploads")
    assert not list(uploads.list_blobs(name_starts_with=p.profile["id"]))
    assert not list(service.get_container_client("images").list_blobs(name_starts_with=p.profile["id"]))


def test_a_file_that_is_not_a_photo_is_rejected_with_a_plain_reason(stack):
    p = Patient(stack)
    image_id = upload_photo(p.api, p.folder["id"], b"%PDF-1.4 not a photo at all" * 100, prepare=False)
    image = wait_for(p.api, image_id)
    assert image["status"] == "rejected" and "photo" in image["rejectionReason"].lower()
    assert p.api.get(f"/api/images/{image_id}/content").status_code == 422


def test_retrying_an_upload_to_the_same_url_gives_one_image(stack):
    p = Patient(stack)
    data = make_photo(320, 240, seed=8)
    from skinvault_client.encryption import upload_encrypted

    session = start_upload(p.api, p.folder["id"], data)
    upload_encrypted(session["uploadUrl"], data, session["encryption"]["jwk"])
    upload_encrypted(session["uploadUrl"], data, session["encryption"]["jwk"])
    assert wait_for(p.api, session["uploadId"])["status"] == "ready"
    assert len(ok(p.api.get(f"/api/folders/{p.folder['id']}/images"))["items"]) == 1


def test_the_upload_url_is_write_only_for_exactly_one_blob(stack):
    p = Patient(stack)
    session = start_upload(p.api, p.folder["id"], b"x" * 1000)
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobClient

    url = session["uploadUrl"]
    assert "sp=cw" in url
    try:
        BlobClient.from_blob_url(url).download_blob().readall()
        raise AssertionError("the SAS allowed a read")
    except HttpResponseError as exc:
        assert exc.status_code == 403
    other = url.replace(session["uploadId"], session["uploadId"] + "x")
    try:
        BlobClient.from_blob_url(other).upload_blob(b"x", overwrite=True)
        raise AssertionError("the SAS allowed writing another blob")
    except HttpResponseError as exc:
        assert exc.status_code == 403


def test_patient_b_gets_404_for_every_one_of_patient_a_ids(stack):
    a = Patient(stack)
    image_id = upload_photo(a.api, a.folder["id"], make_photo(320, 240, seed=9))
    assert wait_for(a.api, image_id)["status"] == "ready"
    b = Patient(stack, name="Bea Other")
    fid = a.folder["id"]
    for method, path in (
        ("GET", f"/api/folders/{fid}"),
        ("PATCH", f"/api/folders/{fid}"),
        ("DELETE", f"/api/folders/{fid}"),
        ("GET", f"/api/folders/{fid}/images"),
        ("POST", f"/api/folders/{fid}/uploads"),
        ("GET", f"/api/images/{image_id}"),
        ("PATCH", f"/api/images/{image_id}"),
        ("DELETE", f"/api/images/{image_id}"),
        ("GET", f"/api/images/{image_id}/content?size=original"),
        ("GET", f"/api/images/{image_id}/comments"),
    ):
        body = (
            {"name": "x"}
            if method == "PATCH" and "folders" in path
            else {"notes": "x"}
            if method == "PATCH"
            else {"contentType": "image/jpeg", "sizeBytes": 10}
            if method == "POST"
            else None
        )
        r = b.api.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code)
        assert fid not in r.text and image_id not in r.text and "secret-note-xyz" not in r.text
    assert wait_for(a.api, image_id)["status"] == "ready"  # still there


def test_annotating_and_deleting_an_image_removes_its_blobs(stack):
    p = Patient(stack)
    image_id = upload_photo(p.api, p.folder["id"], make_photo(320, 240, seed=10))
    wait_for(p.api, image_id)
    updated = ok(p.api.patch(f"/api/images/{image_id}", json={"notes": "Sore today", "rating": 7, "treatment": "Emollient"}))
    assert (updated["notes"], updated["rating"]) == ("Sore today", 7)
    assert p.api.patch(f"/api/images/{image_id}", json={"rating": 11}).status_code == 400
    assert p.api.delete(f"/api/images/{image_id}").status_code == 204
    assert p.api.get(f"/api/images/{image_id}").status_code == 404
    _, images = _blobs(stack, "images")
    assert not list(images.list_blobs(name_starts_with=f"{p.profile['id']}/{image_id}/"))


def test_export_and_erase_my_account(stack):
    p = Patient(stack)
    image_id = upload_photo(p.api, p.folder["id"], make_photo(320, 240, seed=11), notes="first photo")
    wait_for(p.api, image_id)
    r = p.api.get("/api/me/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        data = json.loads(zf.read("skinvault.json"))
        photos = [n for n in zf.namelist() if n.startswith("photos/")]
        assert len(photos) == 1 and zf.read(photos[0]).startswith(JPEG_MAGIC)
    assert data["images"][0]["notes"] == "first photo"
    assert data["folders"][0]["notes"] == "secret-note-xyz"

    assert p.api.delete("/api/me").status_code == 204
    service, _ = _blobs(stack, "images")
    for container in ("uploads", "images", "exports"):
        assert not list(service.get_container_client(container).list_blobs(name_starts_with=p.profile["id"] + "/"))
    assert p.api.get(f"/api/images/{image_id}").status_code == 404
    assert ok(p.api.get("/api/folders"))["items"] == []
