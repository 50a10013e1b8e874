"""Every object schema in shared_code/api/openapi.yaml is closed: a response can carry only the fields
the document lists (the contract test in tests/functions/test_openapi.py validates real responses
against it), so an internal field that slips into a view fails a test instead of reaching clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DOCUMENT = Path(__file__).resolve().parents[3] / "shared_code" / "api" / "openapi.yaml"


def _is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _open_objects(node: Any, path: str, *, in_all_of: bool = False) -> list[str]:
    """Object schemas with properties and no additionalProperties. An allOf branch may stay open
    when it extends a $ref'd schema that is closed (the combination is then closed)."""
    found: list[str] = []
    if isinstance(node, dict):
        if _is_object(node) and "properties" in node and "additionalProperties" not in node and not in_all_of:
            found.append(path)
        for key, value in node.items():
            if key == "allOf":
                assert any("$ref" in branch for branch in value), f"{path}/allOf must extend a closed $ref'd schema"
            found += _open_objects(value, f"{path}/{key}", in_all_of=key == "allOf")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _open_objects(value, f"{path}/{i}", in_all_of=in_all_of)
    return found


def test_every_object_schema_lists_its_fields_and_allows_no_others():
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    assert _open_objects(document, "#") == []


def test_no_schema_is_explicitly_left_open_with_properties():
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    opened: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is True:
                opened.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(document, "#")
    assert opened == []
