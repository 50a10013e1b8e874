"""Large downloads in parts (issue 15): originals and export packages answer a Range with 206 and
Content-Range, the parts put together are the whole, and a download is audited once."""

from __future__ import annotations

import pytest

from shared_code.domain.ranges import MAX_PART
from shared_code.ports import IMAGES
from shared_code.services.library import image_blob_name
from tests.support.library_helpers import build_scene, ok


@pytest.fixture
def scene(client):
    return build_scene(client)


def download_in_parts(client, url, token, part=MAX_PART):
    parts, first = [], 0
    while True:
        reply = client.get(url, token=token, headers={"Range": f"bytes={first}-{first + part - 1}"})
        assert reply.status == 206, reply.status
        assert reply.headers["Accept-Ranges"] == "bytes"
        span, total = reply.headers["Content-Range"].removeprefix("bytes ").split("/")
        start, last = (int(x) for x in span.split("-"))
        assert start == first and len(reply.body) == last - start + 1
        parts.append(reply.body)
        first = last + 1
        if first >= int(total):
            return b"".join(parts)


def test_an_original_downloads_in_parts_that_make_the_whole_and_is_audited_once(scene, client):
    folder = scene.folder("Leg ulcer")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder])
    big = bytes(range(256)) * 40_000 + b"end"  # ~10 MB, three parts
    client.services.blobs.put_encrypted(IMAGES, image_blob_name(scene.patient_id, image, "original"), big)
    url = f"/api/images/{image}/content?size=original"
    assert download_in_parts(client, url, scene.doctor.token) == big
    assert download_in_parts(client, url, scene.doctor.token, part=1_000_000) == big
    views = [i for i in ok(client.get("/api/audit", token=scene.patient.token))["items"] if i["action"] == "viewed-image-content"]
    assert len(views) == 2  # one per download, not one per part
    whole = client.get(url, token=scene.doctor.token)
    assert whole.status == 200 and whole.body == big and whole.headers["Accept-Ranges"] == "bytes"


def test_a_range_past_the_end_is_416_and_parts_need_the_same_access(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    url = f"/api/images/{image}/content?size=original"
    assert client.get(url, token=scene.patient.token, headers={"Range": "bytes=999999999-"}).status == 416
    # no share: a later part is as closed to the clinic as the first
    assert client.get(url, token=scene.doctor.token, headers={"Range": "bytes=100-200"}).status == 404


def test_the_patients_own_export_downloads_in_parts_from_a_file_prepared_by_the_first(scene, client):
    import io
    import zipfile

    from shared_code.ports import EXPORTS

    folder = scene.folder("Mole")
    scene.photo(folder)
    url, token = "/api/me/export", scene.patient.token
    assert client.get(url, token=token, headers={"Range": "bytes=100-"}).status == 422  # nothing prepared yet
    data = download_in_parts(client, url, token, part=1000)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "skinvault.json" in archive.namelist()
        assert any(n.startswith("photos/") for n in archive.namelist())
    assert (EXPORTS, f"{scene.patient_id}/account-export.zip") in client.services.blobs.blobs
    assert client.delete("/api/me", token=token).status == 204  # erasure takes the prepared file too
    assert (EXPORTS, f"{scene.patient_id}/account-export.zip") not in client.services.blobs.blobs
