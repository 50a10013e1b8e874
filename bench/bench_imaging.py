"""Benchmark: process_photo on a 12 MP JPEG against a Pillow-only baseline, in the same run.

    .venv/bin/python bench/bench_imaging.py [--runs N] [--width W --height H]

Baseline (what any Pillow code would do): decode, ImageOps.exif_transpose, preview = thumbnail to
1600 px, thumbnail = thumbnail of the preview to 256 px, encode both as JPEG (quality 85/80).
process_photo does more (structure walk, metadata stripping, quality scoring, an EXIF-free original).

Prints the median of N runs for each and the ratio process_photo / baseline, for an upright JPEG
(the target: ratio <= 1.5) and for one with EXIF Orientation 6 (which needs the full-resolution
original re-encoded, so it costs more). Never fails: errors are printed and the exit code is 0.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 1.5


def baseline(data: bytes) -> tuple[bytes, bytes]:
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    preview = image.copy()
    preview.thumbnail((1600, 1600))
    thumbnail = preview.copy()
    thumbnail.thumbnail((256, 256))
    outputs = []
    for picture, quality in ((preview, 85), (thumbnail, 80)):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        outputs.append(out.getvalue())
    return outputs[0], outputs[1]


def timed(function, data: bytes, runs: int) -> float:
    function(data)  # warm-up (imports, plugin registration)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function(data)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    args = parser.parse_args(argv)
    try:
        from shared_code.domain.imaging import process_photo
        from tests.support.images import make_photo

        def ours(data: bytes):
            return process_photo(data, max_pixels=60_000_000, max_bytes=64 * 1024 * 1024)

        megapixels = args.width * args.height / 1e6
        print(f"process_photo vs Pillow-only baseline, {args.width}x{args.height} ({megapixels:.1f} MP) JPEG, median of {args.runs} runs")
        for label, orientation in (("upright", None), ("orientation 6", 6)):
            data = make_photo(args.width, args.height, orientation=orientation, captured_at="2024:05:01 14:30:00")
            base = timed(baseline, data, args.runs)
            mine = timed(ours, data, args.runs)
            ratio = mine / base if base else float("inf")
            verdict = "within target" if ratio <= TARGET_RATIO else "ABOVE target"
            print(
                f"  {label:<14} {len(data) / 1e6:5.1f} MB  baseline {base * 1000:7.1f} ms  process_photo {mine * 1000:7.1f} ms  "
                f"ratio {ratio:4.2f} ({verdict} {TARGET_RATIO})"
            )
    except Exception:  # noqa: BLE001 - a benchmark reports, it never fails the build
        traceback.print_exc()
        print("benchmark could not complete (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
