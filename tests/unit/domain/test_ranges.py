"""HTTP byte ranges for large downloads: parsed without I/O, one part at most MAX_PART bytes."""

from __future__ import annotations

import pytest

from shared_code.domain.errors import RangeNotSatisfiable
from shared_code.domain.ranges import MAX_PART, ByteRange, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99, 1000)),
        ("bytes=900-", ByteRange(900, 999, 1000)),
        ("bytes=-100", ByteRange(900, 999, 1000)),
        ("bytes=-5000", ByteRange(0, 999, 1000)),
        ("bytes=990-2000", ByteRange(990, 999, 1000)),
        (" bytes = 10 - 19 ", ByteRange(10, 19, 1000)),
    ],
)
def test_a_single_range_is_served_clipped_to_the_body(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", [None, "", "bytes=0-1,5-6", "items=0-5", "bytes=-", "bytes=9-3", "bytes=a-b"])
def test_no_multi_or_malformed_range_means_the_whole_body(header):
    assert parse_range(header, 1000) is None


def test_a_range_past_the_end_is_not_satisfiable():
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=1000-", 1000)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-0", 1000)


def test_a_long_ask_is_served_one_part_and_says_so():
    part = parse_range("bytes=0-", 25_000_000)
    assert part == ByteRange(0, MAX_PART - 1, 25_000_000)
    assert part.content_range == f"bytes 0-{MAX_PART - 1}/25000000" and part.length == MAX_PART
