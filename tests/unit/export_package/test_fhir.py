"""The export's FHIR R4 transaction bundle, checked with the fhir.resources R4B models (R4's Media lives there)."""

import base64
import hashlib
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle

from shared_code.export_package.fhir import PhotoChangedError
from tests.support.export_fixtures import VALID_NHS_NUMBER, build_sample_package, sample_export

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def all_references(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(all_references(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(all_references(item))
    return found


@pytest.mark.parametrize("nhs_number", [VALID_NHS_NUMBER, None, "9434765918"])
def test_bundle_parses_and_validates_as_an_r4_transaction(nhs_number):
    bundle = build_sample_package(sample_export(nhs_number=nhs_number, progressive_photo=True)).bundle()
    model = Bundle.model_validate(bundle)
    assert model.type == "transaction"
    kinds = [e.resource.get_resource_type() for e in model.entry]
    assert kinds.count("Patient") == 1 and kinds.count("Media") == 3 and kinds.count("Binary") == 3
    assert kinds.count("DocumentReference") == 1 and kinds.count("Provenance") == 1
    for entry in model.entry:
        assert entry.request.method == "POST"
        assert entry.request.url == entry.resource.get_resource_type()


def test_every_full_url_is_a_urn_uuid_and_every_reference_resolves_inside_the_bundle():
    bundle = build_sample_package(sample_export()).bundle()
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for url in full_urls:
        assert url.startswith("urn:uuid:")
        uuid.UUID(url.removeprefix("urn:uuid:"))
    references = all_references(bundle)
    attachment_urls = [m["content"]["url"] for m in resources(bundle, "Media")]
    assert references and attachment_urls
    for ref in references + attachment_urls:
        assert ref in full_urls, ref
    binary_urls = {e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Binary"}
    assert set(attachment_urls) == binary_urls


def test_binary_data_size_and_sha1_hash_match_the_stored_jpeg_bytes():
    sample = sample_export()
    bundle = build_sample_package(sample).bundle()
    binaries = {e["fullUrl"]: e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Binary"}
    matched = set()
    for media in resources(bundle, "Media"):
        content = media["content"]
        binary = binaries[content["url"]]
        assert binary["contentType"] == content["contentType"] == "image/jpeg"
        data = base64.b64decode(binary["data"], validate=True)
        assert content["size"] == len(data)
        assert base64.b64decode(content["hash"]) == hashlib.sha1(data, usedforsecurity=False).digest()
        photo_id = next(pid for pid, jpeg in sample.jpegs.items() if jpeg == data)
        assert sample.sha1(photo_id) == hashlib.sha1(data, usedforsecurity=False).digest()
        matched.add(photo_id)
    assert matched == set(sample.jpegs)


def test_patient_has_the_nhs_number_identifier_only_when_it_passes_modulus_11():
    valid = resources(build_sample_package(sample_export(nhs_number=VALID_NHS_NUMBER)).bundle(), "Patient")[0]
    assert [{k: v for k, v in i.items() if k != "extension"} for i in valid["identifier"]] == [{"system": NHS_SYSTEM, "value": VALID_NHS_NUMBER}]
    assert valid["identifier"][0]["extension"][0]["url"].endswith("Extension-UKCore-NHSNumberVerificationStatus")
    assert valid["name"][0]["text"] == "Zoë Ćwikła-Smith"
    assert valid["birthDate"] == "1978-11-23"

    for supplied, reason in (("9434765918", "error"), (None, "unknown")):
        bundle = build_sample_package(sample_export(nhs_number=supplied)).bundle()
        patient = resources(bundle, "Patient")[0]
        identifier = patient["identifier"][0]
        assert identifier["system"] == NHS_SYSTEM and "value" not in identifier
        assert identifier["_value"]["extension"] == [{"url": DAR, "valueCode": reason}]
        assert patient["name"][0]["text"] and patient["birthDate"] == "1978-11-23"
        assert "9434765918" not in json.dumps(bundle)


def test_conditional_create_matches_patient_by_nhs_number_when_valid():
    bundle = build_sample_package(sample_export()).bundle()
    assert bundle["entry"][0]["request"]["ifNoneExist"] == f"identifier={NHS_SYSTEM}|{VALID_NHS_NUMBER}"


def test_media_records_capture_time_body_site_snomed_code_and_patient_notes():
    sample = sample_export()
    media = resources(build_sample_package(sample).bundle(), "Media")
    by_created = {m["createdDateTime"]: m for m in media}
    london = ZoneInfo("Europe/London")
    for photo in sample.photos:
        from datetime import datetime

        captured = datetime.fromisoformat(photo.captured_at)
        match = [m for created, m in by_created.items() if datetime.fromisoformat(created) == captured.astimezone(london)]
        assert len(match) == 1
        item = match[0]
        assert item["status"] == "completed"
        assert item["type"]["coding"][0] == {"system": "http://terminology.hl7.org/CodeSystem/media-type", "code": "image", "display": "Image"}
        assert item["modality"]["coding"][0]["code"] == "XC"
        folder = next(f for f in sample.folders if f.id == photo.folder_id)
        coding = item["bodySite"]["coding"][0]
        assert coding["system"] == "http://snomed.info/sct"
        expected = {"left-forearm": "66480008", "scalp": "41695006"}[folder.body_site]
        assert coding["code"] == expected and item["bodySite"]["text"]
        if photo.notes:
            assert item["note"][0]["text"] == photo.notes
        else:
            assert "note" not in item
        assert (item["width"], item["height"]) == (photo.width, photo.height)


def test_document_reference_carries_every_comment_and_the_triage_outcome_as_plain_text():
    sample = sample_export()
    bundle = build_sample_package(sample).bundle()
    document = resources(bundle, "DocumentReference")[0]
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"].startswith("text/plain")
    text = base64.b64decode(attachment["data"]).decode("utf-8")
    assert attachment["size"] == len(text.encode("utf-8"))
    assert base64.b64decode(attachment["hash"]) == hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).digest()
    for comment in sample.comments:
        assert comment.text in text
        assert comment.author_name in text
    assert "list-for-excision" in text and sample.info.triage.note in text
    assert len(document["context"]["related"]) == len(sample.photos)


def test_document_reference_says_when_no_triage_outcome_was_recorded():
    bundle = build_sample_package(sample_export(triage=False)).bundle()
    text = base64.b64decode(resources(bundle, "DocumentReference")[0]["content"][0]["attachment"]["data"]).decode()
    assert "Triage outcome: not recorded" in text


def test_provenance_names_the_exporting_clinician_and_the_export_time():
    sample = sample_export()
    bundle = build_sample_package(sample).bundle()
    provenance = resources(bundle, "Provenance")[0]
    assert provenance["recorded"] == "2024-06-03T09:15:00+00:00"
    agent = provenance["agent"][0]
    assert agent["who"]["display"] == sample.info.clinician.name
    practitioner_url = agent["who"]["reference"]
    practitioner = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == practitioner_url)
    assert practitioner["resourceType"] == "Practitioner" and practitioner["name"][0]["text"] == sample.info.clinician.name
    organization = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == agent["onBehalfOf"]["reference"])
    assert organization["identifier"][0] == {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RX1DE"}
    media_urls = {e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"}
    assert media_urls <= {t["reference"] for t in provenance["target"]}


def test_rerunning_the_same_export_gives_the_same_resource_ids():
    first = build_sample_package(sample_export()).bundle()
    second = build_sample_package(sample_export()).bundle()
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_a_photo_that_changes_between_reads_is_refused():
    sample = sample_export()
    calls = {}

    def flaky_open(photo_id: str) -> bytes:
        calls[photo_id] = calls.get(photo_id, 0) + 1
        data = sample.jpegs[photo_id]
        return data if calls[photo_id] == 1 else data[:-2] + b"\x00\xff\xd9"

    sample.open_photo = flaky_open  # type: ignore[method-assign]
    with pytest.raises(PhotoChangedError):
        build_sample_package(sample)


def test_media_of_a_folder_without_body_site_validates_and_has_no_body_site():
    from dataclasses import replace

    sample = sample_export()
    sample.folders = [replace(folder, body_site=None) for folder in sample.folders]
    bundle = build_sample_package(sample).bundle()
    Bundle.model_validate(bundle)
    assert all("bodySite" not in media for media in resources(bundle, "Media"))
