"""Blob trigger on the uploads container (Event Grid source in Azure; the local host polls Azurite)."""

import logging

import azure.functions as func

from shared_code import bootstrap
from shared_code.services import processing

bp = func.Blueprint()
log = logging.getLogger("skinvault.functions")


@bp.blob_trigger(arg_name="blob", path="uploads/{name}", connection="UPLOADS_STORAGE", source="EventGrid")
def process_upload(blob: func.InputStream) -> None:
    # The stream holds ciphertext; the service re-reads it through the SDK to verify and decrypt.
    status = processing.handle_upload(bootstrap.services(), blob.name or "")
    log.info("process_upload finished status=%s", status)
