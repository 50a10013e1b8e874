"""HTTP byte ranges (RFC 9110 section 14) for large downloads, decided without I/O.

Large responses (originals, EPR export packages) are served a part at a time: the client asks for
`Range: bytes=<first>-<last>` and gets 206 with `Content-Range: bytes <first>-<last>/<total>`; the
server never holds more than one part (at most MAX_PART bytes; a longer ask is served shorter and
Content-Range says so, as RFC 9110 allows a client to follow). Each part is decrypted from whole
4 MiB AES-GCM regions, each verified before any of its bytes are sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared_code.domain.errors import RangeNotSatisfiable

MAX_PART = 4 * 1024 * 1024  # one encryption region: a part aligned on it decrypts exactly one region
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class ByteRange:
    first: int
    last: int  # inclusive
    total: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.first}-{self.last}/{self.total}"


def parse_range(header: str | None, total: int, max_part: int = MAX_PART) -> ByteRange | None:
    """The part a Range header asks for, clipped to `max_part` bytes; None for no (or an ignorable) header.

    Only single ranges are served (a multi-range ask is ignored: the whole body, as RFC 9110 allows).
    Raises RangeNotSatisfiable when the range starts past the end."""
    if not header or "," in header:
        return None
    match = _RANGE.match(header)
    if not match or (not match.group(1) and not match.group(2)):
        return None  # a malformed Range header is ignored (RFC 9110 14.2)
    first_text, last_text = match.groups()
    if first_text:
        first = int(first_text)
        last = int(last_text) if last_text else total - 1
        if last_text and last < first:
            return None
    else:  # a suffix: the last N bytes
        suffix = int(last_text)
        if suffix == 0:
            raise RangeNotSatisfiable("The range asks for no bytes.")
        first, last = max(0, total - suffix), total - 1
    if first >= total:
        raise RangeNotSatisfiable(f"The range starts past the end ({total} bytes).")
    last = min(last, total - 1, first + max_part - 1)
    return ByteRange(first, last, total)
