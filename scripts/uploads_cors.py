"""Let the patient app PUT ciphertext straight to the uploads blob endpoint from its own origin.

In Azure the ingest storage account carries this CORS rule (PUT from the patient app's origin);
locally `make run` sets it on Azurite, and the browser tests do the same.

    python -m scripts.uploads_cors --settings local.settings.json --origin http://127.0.0.1:7071
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def allow_origins(connection_string: str, origins: list[str]) -> None:
    from azure.storage.blob import BlobServiceClient, CorsRule

    service = BlobServiceClient.from_connection_string(connection_string)
    rule = CorsRule(
        origins, ["PUT", "OPTIONS"], allowed_headers=["x-ms-*", "content-type", "content-length"], exposed_headers=["x-ms-*"], max_age_in_seconds=600
    )
    service.set_service_properties(cors=[rule])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="local.settings.json")
    parser.add_argument("--origin", action="append", required=True)
    args = parser.parse_args(argv)
    values = json.loads(Path(args.settings).read_text()).get("Values", {})
    connection = values.get("UPLOADS_STORAGE") or values.get("STORAGE")
    if not connection or "AccountKey=" not in connection:
        print("uploads_cors: no local uploads connection string; nothing to do", file=sys.stderr)
        return 0
    allow_origins(connection, args.origin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
