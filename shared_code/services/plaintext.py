"""Reading one decrypted blob into memory, once, with as few copies as Python allows."""

from __future__ import annotations

import io
from collections.abc import Iterable


class TooLarge(Exception):
    pass


def read_all(chunks: Iterable[bytes], *, limit: int | None = None) -> bytes:
    """Join decrypted chunks into one bytes object.

    BytesIO grows in place and getvalue() hands over its buffer without a copy (CPython), so the
    peak is the plaintext once, not twice as with bytearray + bytes(). Raises TooLarge past `limit`
    (the caller must not keep what was read)."""
    buf = io.BytesIO()
    for chunk in chunks:
        buf.write(chunk)
        if limit is not None and buf.tell() > limit:
            raise TooLarge()
    data = buf.getvalue()
    buf.close()
    return data


def read_part(chunks: Iterable[bytes]) -> bytes:
    """Join the chunks of one part of a ranged read (<= 4 MiB): a part that came as one chunk (the
    usual case, one region) is handed on as it is, without the copy read_all makes."""
    parts = list(chunks)
    return parts[0] if len(parts) == 1 else b"".join(parts)
