"""Encrypt and upload a file while it is being written, in one pass (issue 15).

The writer (a ZIP builder, say) runs in its own thread and writes to a stream; this thread hands
what it wrote, 4 MiB at a time, to BlobStore.put_encrypted, which uploads block by block and commits
at the end. A failure in the writer stops the upload before its commit, so no partial file is ever
stored; a failing upload stops the writer. Memory: a few chunks, whatever the file's size.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from shared_code.ports import BlobInfo, BlobStore

CHUNK = 4 * 1024 * 1024


class _Pipe:
    """The builder's output stream: 4 MiB chunks handed to the uploading thread through a short queue."""

    def __init__(self, chunks: queue.Queue[bytes | None], aborted: threading.Event) -> None:
        self._chunks, self._aborted = chunks, aborted
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= CHUNK:
            self._send(bytes(self._buffer[:CHUNK]))
            del self._buffer[:CHUNK]
        return len(data)

    def _send(self, chunk: bytes | None) -> None:
        while True:
            if self._aborted.is_set():
                raise _UploadAborted()
            try:
                self._chunks.put(chunk, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        if self._buffer:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._send(None)

    def flush(self) -> None:
        pass


class _UploadAborted(Exception):
    pass


def upload_while_written(blobs: BlobStore, container: str, name: str, write: Callable[[BinaryIO], Any]) -> tuple[Any, BlobInfo]:
    """Run write(stream) in a thread while this one encrypts and uploads what it has written so far;
    returns what write returned and the stored blob. Raises what write raised (nothing stored)."""
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=3)
    aborted = threading.Event()
    outcome: dict[str, Any] = {}

    def builder() -> None:
        pipe = _Pipe(chunks, aborted)
        try:
            outcome["stats"] = write(pipe)  # type: ignore[arg-type]
            pipe.close()
        except _UploadAborted:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the uploading thread, raised there
            outcome["error"] = exc
            aborted.set()
            with contextlib.suppress(queue.Full):
                chunks.put_nowait(None)

    def written() -> Iterator[bytes]:
        while True:
            try:
                chunk = chunks.get(timeout=0.5)
            except queue.Empty:
                if "error" in outcome or not thread.is_alive():
                    break
                continue
            if chunk is None:
                break
            yield chunk
        if "error" in outcome or "stats" not in outcome:
            raise _UploadAborted()  # the SDK stops before committing the blocks

    thread = threading.Thread(target=builder, name="export-builder", daemon=True)
    thread.start()
    try:
        stored = blobs.put_encrypted(container, name, written())
    except BaseException:
        aborted.set()
        thread.join()
        if "error" in outcome:
            raise outcome["error"] from None
        raise
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["stats"], stored
