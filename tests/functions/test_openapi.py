"""shared_code/api/openapi.yaml tells the truth about the registered HTTP functions.

The document is the mobile app team's contract. These tests compare it with the code: the routes,
methods and names function_app.app registers, the JSON schemas the handlers validate bodies against
(the very constants, so the two cannot drift), who needs a token, the statuses and media types the
handlers answer with, and the shapes of real responses.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from functions.dev_tokens import TOKEN_SCHEMA
from shared_code.domain.lesion_history import LESION_HISTORY_SCHEMA
from shared_code.domain.library import FOLDER_CREATE_SCHEMA, FOLDER_PATCH_SCHEMA, IMAGE_PATCH_SCHEMA, UPLOAD_SCHEMA
from shared_code.domain.measurement import MEASUREMENT_SCHEMA
from shared_code.domain.profile import PROFILE_SCHEMA
from shared_code.ports import EXPORT_JOBS_QUEUE
from shared_code.services import email_verification, exports
from shared_code.services.cases import NOTE_SCHEMA, TRIAGE_SCHEMA
from shared_code.services.clinics import CLINIC_SCHEMA, MEMBER_SCHEMA
from shared_code.services.comments import COMMENT_SCHEMA
from shared_code.services.exports import EXPORT_SCHEMA
from shared_code.services.invitations import INVITATION_SCHEMA
from shared_code.services.reminders import REMINDER_SCHEMA
from shared_code.services.sharing import SHARE_SCHEMA
from shared_code.services.triage import FOLDER_TRIAGE_SCHEMA
from tests.functions.openapi_studies import REQUEST_SCHEMAS as STUDY_REQUEST_SCHEMAS
from tests.functions.openapi_studies import exercise_study_operations
from tests.support.conversation import invitation_code
from tests.support.functions_client import all_functions
from tests.support.library_helpers import add_ready_image

DOCUMENT = Path(__file__).resolve().parents[2] / "shared_code" / "api" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
TAGS = {
    "profile",
    "folders",
    "uploads",
    "images",
    "sharing",
    "clinic",
    "comments",
    "audit",
    "exports",
    "admin",
    "dev",
    "platform",
    "studies",
    "research",
}
PROBLEM_STATUSES = {"400", "401", "403", "404", "409", "410", "412", "413", "415", "422", "429", "500", "503"}

# operationId -> the schema object the handler validates its body against (endpoint(body=...)).
REQUEST_SCHEMAS: dict[str, dict] = {
    "put_me": PROFILE_SCHEMA,
    "mint_dev_token": TOKEN_SCHEMA,
    "create_clinic": CLINIC_SCHEMA,
    "add_clinic_member": MEMBER_SCHEMA,
    "create_folder": FOLDER_CREATE_SCHEMA,
    "update_folder": FOLDER_PATCH_SCHEMA,
    "start_upload": UPLOAD_SCHEMA,
    "update_image": IMAGE_PATCH_SCHEMA,
    "grant_share": SHARE_SCHEMA,
    "set_case_triage": TRIAGE_SCHEMA,
    "add_image_comment": COMMENT_SCHEMA,
    "add_folder_comment": COMMENT_SCHEMA,
    "request_export": EXPORT_SCHEMA,
    "add_case_note": NOTE_SCHEMA,
    "request_photos": INVITATION_SCHEMA,
    "set_folder_reminder": REMINDER_SCHEMA,
    **STUDY_REQUEST_SCHEMAS,
    "request_email_verification": email_verification.REQUEST_SCHEMA,
    "confirm_email_verification": email_verification.CONFIRM_SCHEMA,
    "add_folder_triage": FOLDER_TRIAGE_SCHEMA,
    "put_lesion_history": LESION_HISTORY_SCHEMA,
    "add_measurement": MEASUREMENT_SCHEMA,
}


# ----------------------------------------------------------------------------- reading both sides
@cache
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


def fresh_document() -> dict:
    return copy.deepcopy(document())


def operations() -> dict[str, tuple[str, str, dict]]:
    """operationId -> (path, method, operation), for every operation in the document."""
    out: dict[str, tuple[str, str, dict]] = {}
    for path, item in document()["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                op = item[method]
                assert op["operationId"] not in out, f"operationId {op['operationId']} is used twice"
                out[op["operationId"]] = (path, method, op)
    return out


def resolve(node: Any) -> Any:
    """Follow local $refs (#/...) until the node is not a reference."""
    while isinstance(node, dict) and "$ref" in node:
        node = _at(_pointer_tokens(node["$ref"]))
    return node


def _pointer_tokens(ref: str) -> list[str]:
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    return [t.replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/")]


def _at(tokens: list[str]) -> Any:
    node: Any = document()
    for token in tokens:
        node = node[token]
    return node


def parameters_of(path: str, method: str) -> dict[tuple[str, str], dict]:
    """(in, name) -> parameter, path-level and operation-level together."""
    item = document()["paths"][path]
    params = [resolve(p) for p in item.get("parameters", []) + item[method].get("parameters", [])]
    return {(p["in"], p["name"]): p for p in params}


@cache
def http_functions() -> dict[str, dict]:
    """Function name -> its route, methods, endpoint settings and handler source, from the registered app."""
    out = {}
    for fn in all_functions():
        trigger = fn.get_trigger().get_dict_repr()
        if trigger["type"] != "httpTrigger":
            continue
        settings = inspect.getclosurevars(inspect.unwrap(fn.get_user_function())).nonlocals  # what endpoint(...) was given
        out[fn.get_function_name()] = {
            "route": trigger["route"],
            "methods": {str(getattr(m, "value", m)).lower() for m in trigger["methods"]},
            "roles": settings["roles"],
            "body": settings["body"],
            "source": inspect.getsource(settings["fn"]),
        }
    return out


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


# ----------------------------------------------------------------------------- the document itself
def test_the_document_is_a_valid_openapi_3_1_document():
    doc = fresh_document()
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_servers_security_and_tags_are_declared():
    doc = document()
    assert [s["url"] for s in doc["servers"]] == ["/api", "http://127.0.0.1:7071/api"]
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert doc["security"] == [{"bearerAuth": []}]
    assert {t["name"] for t in doc["tags"]} == TAGS


# ----------------------------------------------------------------------------- routes, methods, names
def test_every_registered_http_function_is_documented_under_its_route_and_method():
    registered = {(f"/{f['route']}", method): name for name, f in http_functions().items() for method in f["methods"]}
    documented = {(path, method): op_id for op_id, (path, method, _) in operations().items()}
    assert set(registered) - set(documented) == set(), "registered but not documented"
    assert set(documented) - set(registered) == set(), "documented but not registered"
    assert documented == registered, "operationIds must equal the function names"


def test_every_operation_has_a_summary_and_known_tags():
    for op_id, (_, _, op) in operations().items():
        assert op.get("summary"), op_id
        assert op.get("tags") and set(op["tags"]) <= TAGS, op_id


# ----------------------------------------------------------------------------- request bodies
def test_request_body_schemas_are_the_schemas_the_code_validates_against():
    functions = http_functions()
    with_body = {name for name, f in functions.items() if f["body"] is not None}
    assert with_body == set(REQUEST_SCHEMAS), "REQUEST_SCHEMAS must name every handler that takes a body"
    for name, f in functions.items():
        _, _, op = operations()[name]
        if f["body"] is None:
            assert "requestBody" not in op, f"{name} takes no body"
            continue
        assert f["body"] is REQUEST_SCHEMAS[name], f"{name} validates against another schema"
        body = resolve(op["requestBody"])
        assert body["required"] is True, name
        assert "application/json" in body["content"], name
        assert set(body["content"]) <= {"application/json", "application/merge-patch+json"}, name
        for media_type, content in body["content"].items():
            assert resolve(content["schema"]) == as_json(f["body"]), f"{name} {media_type} schema differs from the code's"


def test_operations_that_take_a_body_document_bad_too_large_and_wrong_media_type():
    for name in REQUEST_SCHEMAS:
        _, _, op = operations()[name]
        assert {"400", "413", "415"} <= set(op["responses"]), name


# ----------------------------------------------------------------------------- who needs a token
def test_public_operations_are_exactly_those_the_code_lets_in_without_a_token():
    for name, f in http_functions().items():
        _, _, op = operations()[name]
        if f["roles"] is None:
            assert op.get("security") == [], f"{name} is public"
            assert "401" not in op["responses"], name
        else:
            assert "security" not in op, f"{name} needs the global bearer token"
            assert {"401", "403"} <= set(op["responses"]), name
            # A role the endpoint does not serve is answered 404 (patient data) or 403 (admin tools).
            assert {"403", "404"} & set(op["responses"]), name


# ----------------------------------------------------------------------------- parameters
def test_path_and_query_parameters_match_what_the_handlers_read():
    for name, f in http_functions().items():
        path, method, _ = operations()[name]
        params = parameters_of(path, method)
        route_params = set(re.findall(r"{(\w+)}", f["route"]))
        assert {n for (where, n) in params if where == "path"} == route_params, name
        for n in route_params:
            assert params[("path", n)]["required"] is True, (name, n)
        read = set(re.findall(r'call\.query\("(\w+)"\)', f["source"]))
        if "call.paging()" in f["source"]:
            read |= {"limit", "continuationToken"}
        assert {n for (where, n) in params if where == "query"} == read, name
        if "call.paging()" in f["source"]:
            limit = params[("query", "limit")]["schema"]
            assert (limit["type"], limit["minimum"], limit["maximum"], limit["default"]) == ("integer", 1, 200, 50), name
            assert {"400"} <= set(operations()[name][2]["responses"]), f"{name}: a bad limit or token is a 400"
        if "If-Match" in f["source"]:
            assert ("header", "If-Match") in params, name


def test_enumerated_query_parameters_list_the_values_the_code_accepts():
    from shared_code.domain.library import IMAGE_SIZES
    from shared_code.services.cases import FILTERS

    size = parameters_of(*operations()["get_image_content"][:2])[("query", "size")]["schema"]
    assert set(size["enum"]) == set(IMAGE_SIZES) and size["default"] == "preview"
    filt = parameters_of(*operations()["list_cases"][:2])[("query", "filter")]["schema"]
    assert set(filt["enum"]) == set(FILTERS) and filt["default"] == "all"
    for name in ("find_clinic", "get_consent_text"):
        (param,) = [p for (where, _), p in parameters_of(*operations()[name][:2]).items() if where == "query"]
        assert param["required"] is True, f"{name} answers 400 without ?{param['name']}="


# ----------------------------------------------------------------------------- responses
def _success_statuses(source: str) -> set[str]:
    """The 2xx statuses a handler's source can answer with."""
    statuses = set()
    for expr in re.findall(r"status=([^,)]*)", source):
        statuses |= set(re.findall(r"\b\d{3}\b", expr))
    if "no_content()" in source:
        statuses.add("204")
    if not statuses or "binary_response(" in source or "status=200" in source:
        statuses.add("200")
    return statuses


def test_success_statuses_and_media_types_match_the_handlers():
    for name, f in http_functions().items():
        _, _, op = operations()[name]
        source = f["source"]
        expected = _success_statuses(source)
        documented = {s for s in op["responses"] if s.startswith("2")}
        assert documented == {s for s in expected if s.startswith("2")}, name
        assert expected <= set(op["responses"]), name
        binary = re.search(r'binary_response\([^"]*"([a-z]+/[a-z0-9.+-]+)"', source)
        for status in documented:
            response = resolve(op["responses"][status])
            if status == "204":
                assert "content" not in response, name
            elif binary:
                assert set(response["content"]) == {binary.group(1)}, name
                assert response["content"][binary.group(1)]["schema"]["format"] == "binary", name
            else:
                assert set(response["content"]) == {"application/json"}, name


def test_every_response_carries_the_correlation_id_and_problems_are_problem_json():
    problem = {"$ref": "#/components/schemas/Problem"}
    for name, (_, _, op) in operations().items():
        for status, ref in op["responses"].items():
            response = resolve(ref)
            assert "X-Correlation-Id" in response.get("headers", {}), (name, status)
            assert status in PROBLEM_STATUSES | {"200", "201", "202", "204"}, (name, status)
            if status in PROBLEM_STATUSES and not (name == "health_check" and status == "503"):
                assert response["content"] == {"application/problem+json": response["content"]["application/problem+json"]}, (name, status)
                assert response["content"]["application/problem+json"]["schema"] == problem, (name, status)
            if status in ("429", "503") and name != "health_check":
                assert "Retry-After" in response["headers"], (name, status)


def test_problem_schema_is_rfc_9457_with_our_extensions():
    schema = document()["components"]["schemas"]["Problem"]
    assert set(schema["required"]) == {"type", "title", "status", "detail"}
    assert {"type", "title", "status", "detail", "correlationId", "errors"} <= set(schema["properties"])


# ----------------------------------------------------------------------------- real responses
class ResponseChecker:
    """Validates real replies against the response the document gives for that operation and status."""

    BASE = "urn:skinvault:openapi"

    def __init__(self) -> None:
        doc = fresh_document()
        self.registry = Registry().with_resource(self.BASE, Resource.from_contents(doc, default_specification=DRAFT202012))
        self.seen: set[tuple[str, int]] = set()

    def _schema_pointer(self, op_id: str, status: int, media_type: str) -> str:
        path, method, _ = operations()[op_id]
        tokens = ["paths", path, method, "responses", str(status)]
        node = _at(tokens)
        if "$ref" in node:
            tokens = _pointer_tokens(node["$ref"])
            node = _at(tokens)
        assert media_type in node.get("content", {}), f"{op_id} {status}: {media_type} is not documented"
        tokens += ["content", media_type, "schema"]
        return "#/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens)

    def __call__(self, reply: Any, op_id: str, status: int) -> Any:
        assert reply.status == status, (op_id, reply.status, reply.body[:400])
        _, _, op = operations()[op_id]
        assert str(status) in op["responses"], f"{op_id} answered {status}, which the document does not list"
        self.seen.add((op_id, status))
        response = resolve(op["responses"][str(status)])
        for header, spec in response.get("headers", {}).items():
            if resolve(spec).get("required"):
                assert reply.headers.get(header), f"{op_id} {status}: no {header} header"
        if status == 204:
            assert not reply.body, op_id
            return None
        media_type = reply.content_type.split(";")[0].strip()
        pointer = self._schema_pointer(op_id, status, media_type)
        if not media_type.endswith("json"):
            magic = {"image/jpeg": b"\xff\xd8\xff", "application/zip": b"PK\x03\x04"}[media_type]
            assert reply.body.startswith(magic), f"{op_id}: the body is not {media_type}"
            return reply.body
        body = reply.json()
        validator = jsonschema.Draft202012Validator(
            {"$ref": self.BASE + pointer}, registry=self.registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, f"{op_id} {status} does not match the document: {errors}"
        return body


def test_served_document_is_the_yaml_document_as_json(client):
    check = ResponseChecker()
    served = check(client.get("/api/openapi.json"), "get_openapi_document", 200)
    assert served == as_json(document())


def test_real_responses_match_the_documented_schemas(client):
    check = ResponseChecker()
    services = client.services
    admin = client.token("admin-1", "admin", "Ada Admin")
    patient = client.token("patient-a", "patient", "Alice Example", "alice@example.org")
    doctor = client.token("doc-1", "clinician", "Dr Derm")

    # platform and dev
    check(client.get("/api/health"), "health_check", 200)
    check(client.get("/api/dev/jwks"), "dev_jwks", 200)
    check(client.post("/api/dev/token", json={"sub": "x", "name": "X", "role": "patient"}), "mint_dev_token", 200)

    # admin
    clinic = check(
        client.post("/api/manage/clinics", token=admin, json={"name": "Leeds Dermatology", "odsCode": "RR8", "notificationEmail": "d@nhs.example"}),
        "create_clinic",
        201,
    )
    check(client.get("/api/manage/clinics", token=admin), "list_clinics", 200)
    member = {"sub": "doc-1", "name": "Dr Derm", "email": "doc@nhs.example"}
    check(client.post(f"/api/manage/clinics/{clinic['id']}/members", token=admin, json=member), "add_clinic_member", 201)
    check(client.get(f"/api/manage/clinics/{clinic['id']}/members", token=admin), "list_clinic_members", 200)
    check(client.get("/api/manage/clinics", token=patient), "list_clinics", 403)

    # the patient's profile and library
    check(client.get("/api/me", token=patient), "get_me", 200)
    check(
        client.put("/api/me", token=patient, json={"displayName": "Alice", "nhsNumber": "943 476 5919", "dateOfBirth": "1980-02-29"}), "put_me", 200
    )
    check(client.put("/api/me", token=patient, json={"nhsNumber": "9434765918"}), "put_me", 422)
    check(client.put("/api/me", token=patient, body=b"{}", headers={"Content-Type": "text/plain"}), "put_me", 415)
    sites = check(client.get("/api/body-sites", token=patient), "list_body_sites", 200)
    assert {"key": "scalp", "system": "http://snomed.info/sct", "code": "41695006", "display": "Scalp structure"} in sites["items"]
    folder = check(client.post("/api/folders", token=patient, json={"name": "Mole on back", "startDate": "2026-01-02"}), "create_folder", 201)
    bad = check(client.post("/api/folders", token=patient, json={"name": "x" * 101, "colour": "red"}), "create_folder", 400)
    assert {e["pointer"] for e in bad["errors"]} == {"/", "/name"}
    check(client.get("/api/folders?limit=1", token=patient), "list_folders", 200)
    check(client.get("/api/folders?limit=0", token=patient), "list_folders", 400)
    check(client.get(f"/api/folders/{folder['id']}", token=patient), "get_folder", 200)
    check(client.get("/api/folders/fld-not-mine", token=patient), "get_folder", 404)
    check(client.patch(f"/api/folders/{folder['id']}", token=patient, json={"notes": "itchy"}), "update_folder", 200)
    session = check(
        client.post(f"/api/folders/{folder['id']}/uploads", token=patient, json={"contentType": "image/jpeg", "sizeBytes": 5000}), "start_upload", 201
    )
    check(client.get("/api/upload-key", token=patient), "get_upload_key", 200)
    check(client.get(f"/api/images/{session['uploadId']}", token=patient), "get_image", 200)
    check(client.get(f"/api/images/{session['uploadId']}/content", token=patient), "get_image_content", 422)
    image_id = add_ready_image(client, patient, folder["id"])
    check(client.get(f"/api/images/{image_id}", token=patient), "get_image", 200)
    check(client.patch(f"/api/images/{image_id}", token=patient, json={"rating": 7, "notes": "smaller"}), "update_image", 200)
    check(client.get(f"/api/images/{image_id}/content?size=thumbnail", token=patient), "get_image_content", 200)
    check(client.get(f"/api/folders/{folder['id']}/images", token=patient), "list_folder_images", 200)
    check(client.get("/api/me", headers={"Authorization": "Bearer not-a-token"}), "get_me", 401)

    # sharing
    check(client.get(f"/api/clinics?code={clinic['shareCode']}", token=patient), "find_clinic", 200)
    check(client.get("/api/clinics", token=patient), "find_clinic", 400)
    text = check(client.get(f"/api/consent-text?clinicId={clinic['id']}", token=patient), "get_consent_text", 200)
    share_body = {
        "clinicId": clinic["id"],
        "folderIds": [folder["id"]],
        "purposes": ["direct-care", "teaching"],
        "expiresAt": "2027-11-27T10:00:00Z",
        "consent": {"textVersion": text["version"], "accepted": True},
    }
    share = check(client.post("/api/shares", token=patient, json=share_body), "grant_share", 201)
    check(client.post("/api/shares", token=patient, json={**share_body, "purposes": ["teaching"]}), "grant_share", 422)
    check(client.get("/api/shares", token=patient), "list_shares", 200)

    # the clinic
    cases = check(client.get("/api/clinic/cases?filter=new", token=doctor), "list_cases", 200)
    case_id = cases["items"][0]["caseId"]
    check(client.get(f"/api/clinic/cases/{case_id}", token=doctor), "get_case", 200)
    check(client.get(f"/api/folders/{folder['id']}", token=doctor), "get_folder", 200)
    check(client.get(f"/api/images/{image_id}/content", token=doctor), "get_image_content", 200)
    check(
        client.put(f"/api/clinic/cases/{case_id}/triage", token=doctor, json={"outcome": "routine-follow-up", "note": "ok"}), "set_case_triage", 200
    )
    check(client.post(f"/api/clinic/cases/{case_id}/reviewed", token=doctor), "mark_case_reviewed", 200)
    check(client.get("/api/clinic/cases", token=doctor), "list_cases", 200)
    check(client.post(f"/api/images/{image_id}/comments", token=doctor, json={"text": "Looks stable."}), "add_image_comment", 201)
    check(client.post(f"/api/folders/{folder['id']}/comments", token=doctor, json={"text": "Photo monthly."}), "add_folder_comment", 201)
    check(client.get(f"/api/images/{image_id}/comments", token=patient), "list_image_comments", 200)
    check(client.get(f"/api/folders/{folder['id']}/comments", token=doctor), "list_folder_comments", 200)
    check(client.get("/api/clinic/cases", token=patient), "list_cases", 404)
    _exercise_the_conversation(check, client, patient, doctor, case_id, folder["id"])
    _exercise_clinical_depth(check, client, patient, doctor, case_id, folder["id"], image_id)

    # exports: requested, built by the queue job, downloaded, then gone after it expires
    accepted = check(client.post("/api/exports", token=doctor, json={"caseId": case_id}), "request_export", 202)
    check(client.get(f"/api/exports/{accepted['exportId']}", token=doctor), "get_export", 200)
    check(client.get(f"/api/exports/{accepted['exportId']}/content", token=doctor), "get_export_content", 422)
    (job,) = services.queue.take(EXPORT_JOBS_QUEUE)
    assert exports.build(services, job) == "ready"
    check(client.get(f"/api/exports/{accepted['exportId']}", token=doctor), "get_export", 200)
    check(client.get(f"/api/exports/{accepted['exportId']}/content", token=doctor), "get_export_content", 200)
    services.clock.advance(hours=services.settings.export_ttl_hours + 1)
    check(client.get(f"/api/exports/{accepted['exportId']}", token=doctor), "get_export", 200)
    check(client.get(f"/api/exports/{accepted['exportId']}/content", token=doctor), "get_export_content", 410)

    # the patient's notification address
    check(client.post("/api/me/email-verification", token=patient, json={"email": "alice@example.org"}), "request_email_verification", 200)
    sent = check(client.post("/api/me/email-verification", token=patient, json={"email": "a.new@example.org"}), "request_email_verification", 202)
    assert sent["status"] == "code-sent"
    code = services.email.sent[-1].text.split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    check(client.post("/api/me/email-verification/confirm", token=patient, json={"code": wrong}), "confirm_email_verification", 422)
    check(client.post("/api/me/email-verification/confirm", token=patient, json={"code": code}), "confirm_email_verification", 200)

    # the patient's audit trail, revoking, deleting, downloading and erasing
    check(client.get("/api/audit?limit=5", token=patient), "get_audit_trail", 200)
    check(client.delete(f"/api/shares/{share['id']}", token=patient), "revoke_share", 200)
    check(client.get(f"/api/folders/{folder['id']}", token=doctor), "get_folder", 404)
    check(client.get("/api/me/export", token=patient), "export_me", 200)
    check(client.delete(f"/api/images/{image_id}", token=patient), "delete_image", 204)
    check(client.delete(f"/api/folders/{folder['id']}", token=patient), "delete_folder", 204)
    check(client.delete(f"/api/manage/clinics/{clinic['id']}/members/doc-1", token=admin), "remove_clinic_member", 204)
    check(client.delete("/api/me", token=patient), "erase_me", 204)

    exercise_study_operations(client, check)
    exercised = {op_id for op_id, _ in check.seen}
    assert exercised == set(operations()) - {"get_openapi_document"}, f"not exercised: {set(operations()) - exercised}"


def _exercise_clinical_depth(check: ResponseChecker, client: Any, patient: str, doctor: str, case_id: str, folder_id: str, image_id: str) -> None:
    """Triage per folder, the lesion-history questionnaire, "Show photo"."""
    questions = check(client.get("/api/lesion-history/questionnaire", token=patient), "get_lesion_questionnaire", 200)
    answers = {item["linkId"]: item["options"][0]["code"] for item in questions["items"]}
    check(client.get(f"/api/folders/{folder_id}/lesion-history", token=patient), "get_lesion_history", 404)
    check(client.put(f"/api/folders/{folder_id}/lesion-history", token=patient, json=answers), "put_lesion_history", 200)
    check(client.put(f"/api/folders/{folder_id}/lesion-history", token=patient, json={"duration": "forever"}), "put_lesion_history", 400)
    check(client.get(f"/api/folders/{folder_id}/lesion-history", token=doctor), "get_lesion_history", 200)
    listing = {"outcome": "list-for-excision", "note": "MDT", "excision": {"procedure": "punch", "priority": "urgent"}}
    check(client.post(f"/api/clinic/cases/{case_id}/folders/{folder_id}/triage", token=doctor, json=listing), "add_folder_triage", 201)
    check(
        client.post(f"/api/clinic/cases/{case_id}/folders/{folder_id}/triage", token=doctor, json={"outcome": "list-for-excision"}),
        "add_folder_triage",
        422,
    )
    check(client.get(f"/api/clinic/cases/{case_id}/folders/{folder_id}/triage", token=doctor), "list_folder_triage", 200)
    check(client.get("/api/clinic/cases?filter=urgent&sort=urgency", token=doctor), "list_cases", 200)
    check(client.post(f"/api/clinic/cases/{case_id}/images/{image_id}/reveal", token=doctor), "reveal_intimate_photo", 422)
    measure = {"calibration": {"line": {"x1": 0, "y1": 0, "x2": 100, "y2": 0}, "millimetres": 10}, "line": {"x1": 5, "y1": 5, "x2": 5, "y2": 65}}
    check(client.post(f"/api/clinic/cases/{case_id}/images/{image_id}/measurements", token=doctor, json=measure), "add_measurement", 201)
    check(client.post(f"/api/clinic/cases/{case_id}/images/{image_id}/measurements", token=doctor, json={"line": {}}), "add_measurement", 400)
    check(client.get(f"/api/clinic/cases/{case_id}/images/{image_id}/measurements", token=doctor), "list_measurements", 200)


def _exercise_the_conversation(check: ResponseChecker, client: Any, patient: str, doctor: str, case_id: str, folder_id: str) -> None:
    """Messages, replies, withdrawal, internal notes, photo requests and reminders."""
    reply = check(client.post(f"/api/folders/{folder_id}/comments", token=patient, json={"text": "Thank you"}), "add_folder_comment", 201)
    assert reply["kind"] == "reply"
    messages = check(client.get(f"/api/folders/{folder_id}/messages", token=patient), "list_folder_messages", 200)
    assert {m["kind"] for m in messages["items"]} == {"comment", "reply", "outcome"}
    check(client.get(f"/api/folders/{folder_id}/messages", token=doctor), "list_folder_messages", 200)
    check(client.get("/api/messages?limit=2", token=patient), "list_my_messages", 200)
    check(client.get("/api/messages?limit=500", token=patient), "list_my_messages", 400)
    comment = next(m for m in messages["items"] if m["kind"] == "comment")
    check(client.post(f"/api/clinic/cases/{case_id}/comments/{comment['id']}/withdraw", token=doctor), "withdraw_case_comment", 200)
    check(client.post(f"/api/clinic/cases/{case_id}/comments/{reply['id']}/withdraw", token=doctor), "withdraw_case_comment", 404)
    check(client.post(f"/api/clinic/cases/{case_id}/notes", token=doctor, json={"text": "Discussed"}), "add_case_note", 201)
    check(client.get(f"/api/clinic/cases/{case_id}/notes", token=doctor), "list_case_notes", 200)
    triage = {"outcome": "discharge", "reminder": "2w"}
    check(client.put(f"/api/clinic/cases/{case_id}/triage", token=doctor, json=triage), "set_case_triage", 422)

    check(client.put(f"/api/folders/{folder_id}/reminder", token=patient, json={"every": "1m"}), "set_folder_reminder", 200)
    check(client.put(f"/api/folders/{folder_id}/reminder", token=patient, json={"every": "3d"}), "set_folder_reminder", 400)
    check(client.get("/api/reminders", token=patient), "list_reminders", 200)
    check(client.delete(f"/api/folders/{folder_id}/reminder", token=patient), "remove_folder_reminder", 204)

    invitation = check(
        client.post("/api/clinic/invitations", token=doctor, json={"email": "sam@example.org", "instruction": "Both elbows"}), "request_photos", 201
    )
    check(client.post("/api/clinic/invitations", token=doctor, json={"email": "not-an-address"}), "request_photos", 422)
    check(client.get(f"/api/clinic/invitations/{invitation['id']}", token=doctor), "get_invitation", 200)
    code = invitation_code(client)
    check(client.get(f"/api/invitations/{code}", token=patient), "look_up_invitation", 200)
    check(client.get("/api/invitations/no-such-code", token=patient), "look_up_invitation", 404)
    check(client.post(f"/api/invitations/{code}/accept", token=patient), "accept_invitation", 200)
    other = client.token("patient-b", "patient", "Bo Other")
    check(client.post(f"/api/invitations/{code}/accept", token=other), "accept_invitation", 409)
    check(client.get(f"/api/invitations/{code}", token=other), "look_up_invitation", 409)
    check(client.post(f"/api/clinic/invitations/{invitation['id']}/cancel", token=doctor), "cancel_invitation", 200)
    check(client.get(f"/api/invitations/{code}", token=patient), "look_up_invitation", 410)


def test_an_outage_is_answered_as_documented(client):
    check = ResponseChecker()
    patient = client.token("patient-a", "patient", "Alice Example")
    client.services.blobs.available = False
    health = check(client.get("/api/health"), "health_check", 503)
    assert health == {"status": "unavailable", "dependencies": {"blobStorage": "unavailable", "metadataStore": "ok", "queues": "ok"}}
    folder = check(client.post("/api/folders", token=patient, json={"name": "Scar"}), "create_folder", 201)
    body = check(
        client.post(f"/api/folders/{folder['id']}/uploads", token=patient, json={"contentType": "image/png", "sizeBytes": 9}), "start_upload", 503
    )
    assert body["type"].endswith("/dependency-unavailable")


@pytest.mark.parametrize("status", ["404", "400"])
def test_documented_problem_responses_validate_real_problems(client, status):
    check = ResponseChecker()
    patient = client.token("patient-a", "patient", "Alice Example")
    if status == "404":
        body = check(client.get("/api/images/img-nope", token=patient), "get_image", 404)
    else:
        body = check(client.get("/api/audit?continuationToken=%%%", token=patient), "get_audit_trail", 400)
    assert body["status"] == int(status) and body["type"].startswith("https://skinvault.nhs.example/problems/")
