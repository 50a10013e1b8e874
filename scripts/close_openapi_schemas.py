"""Close every object schema in shared_code/api/openapi.yaml (additionalProperties: false).

An `allOf: [$ref Base, {type: object, ...}]` extension is merged into one schema listing both's
fields first (a closed base would otherwise reject the extension's fields). The document is
written back the way it is kept (PyYAML, width 150, key order kept, leading comments kept), so
running this on a closed document changes nothing. Use it after adding schemas, or after a merge:
tests/unit/api/test_openapi_closed_schemas.py fails while any object schema is open.

    .venv/bin/python scripts/close_openapi_schemas.py
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

DOCUMENT = Path(__file__).resolve().parents[1] / "shared_code" / "api" / "openapi.yaml"


def _is_object(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def merge_all_of(node: Any, schemas: dict[str, Any]) -> None:
    if isinstance(node, dict):
        parts = node.get("allOf")
        if isinstance(parts, list) and len(parts) == 2 and "$ref" in parts[0] and parts[1].get("type") == "object":
            base = copy.deepcopy(schemas[parts[0]["$ref"].rsplit("/", 1)[1]])
            extension = parts[1]
            merged = {k: v for k, v in node.items() if k != "allOf"}
            merged.update({k: v for k, v in base.items() if k not in ("properties", "required", "description")})
            merged["required"] = list(dict.fromkeys([*base.get("required", []), *extension.get("required", [])]))
            merged["properties"] = {**base.get("properties", {}), **extension.get("properties", {})}
            node.clear()
            node.update(merged)
        for value in node.values():
            merge_all_of(value, schemas)
    elif isinstance(node, list):
        for value in node:
            merge_all_of(value, schemas)


def close(node: Any) -> None:
    if isinstance(node, dict):
        if _is_object(node) and "properties" in node and "additionalProperties" not in node:
            items = list(node.items())
            items.insert([k for k, _ in items].index("type") + 1, ("additionalProperties", False))
            node.clear()
            node.update(items)
        for value in node.values():
            close(value)
    elif isinstance(node, list):
        for value in node:
            close(value)


def main() -> None:
    source = DOCUMENT.read_text(encoding="utf-8")
    document = yaml.safe_load(source)
    merge_all_of(document, document["components"]["schemas"])
    close(document)
    dumped = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=150)
    comments = "".join(line + "\n" for line in source.splitlines() if line.startswith("#"))
    first, rest = dumped.split("\n", 1)
    DOCUMENT.write_text(first + "\n" + comments + rest, encoding="utf-8")


if __name__ == "__main__":
    main()
