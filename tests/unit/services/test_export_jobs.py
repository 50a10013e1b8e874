"""Export-job queue messages are checked against the store before anything is built."""

from __future__ import annotations

import pytest

from shared_code.ports import PATIENTS
from shared_code.services import exports


@pytest.mark.parametrize(
    "message",
    [{}, {"patientId": "pt-a", "exportId": "a/b"}, {"patientId": ["pt-a"], "exportId": "exp-1"}, {"patientId": "pt-a", "exportId": "img-1"}],
)
def test_an_export_job_naming_no_export_is_dropped_without_touching_anything(services, message):
    services.store.create(PATIENTS, {"id": "img-1", "patientId": "pt-a", "type": "image", "status": "ready"})
    assert exports.build(services, message) == "gone"
    assert services.blobs.blobs == {}
    assert services.store.read(PATIENTS, "pt-a", "img-1")["status"] == "ready"
