"""Blob trigger on the uploads container (Event Grid source in Azure; the local host polls Azurite).

The trigger takes a `BlobClient` (SDK-type binding from azurefunctions-extensions-bindings-blob, as
the Azure-Samples Event Grid blob trigger quickstart does), so neither the host nor the worker
downloads the ciphertext: the service checks the blob's size before it reads a byte, and a 1 GiB
PUT through the upload link is rejected at the cost of one properties request.
"""

import logging

import azure.functions as func
import azurefunctions.extensions.bindings.blob as blob

from shared_code import bootstrap, telemetry
from shared_code.services import processing

bp = func.Blueprint()
log = logging.getLogger("skinvault.functions")


@bp.blob_trigger(arg_name="client", path="uploads/{name}", connection="UPLOADS_STORAGE", source="EventGrid")
def process_upload(client: blob.BlobClient) -> None:
    with telemetry.trigger_span("process_upload"):  # the service continues the upload request's trace
        status = processing.handle_upload(bootstrap.services(), client.blob_name)
    log.info("process_upload finished status=%s", status)
