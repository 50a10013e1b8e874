"""Benchmark: the patient app's on-device encryption (patient/js/lib/cse.js) in headless Chromium.

    .venv/bin/python bench/bench_patient_crypto.py [--rounds 5]

Encrypts a 12 MP photo (a 4000 x 3000 JPEG made by Pillow) with encryptBlobV2 (Azure Storage
client-side encryption v2: 4 MiB AES-GCM regions into one output buffer, content key wrapped
RSA-OAEP-256 under a 3072-bit key) and, beside it, raw WebCrypto AES-GCM over the same bytes in one
call. Target: encryptBlobV2 <= 1.2x raw. Prints figures only; never fails on a slow result.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "client"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from tests.e2e.web.helpers import launch  # noqa: E402
from tests.support.images import make_photo  # noqa: E402

TARGET = 1.2
PATIENT_JS = ROOT / "patient" / "js"

MEASURE = """async ([b64, rounds]) => {
  const { encryptBlobV2 } = await import('/lib/cse.js');
  const photo = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const pair = await crypto.subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
  const { n, e } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const kek = { kid: 'bench:kek/1', jwk: { kty: 'RSA', n, e, alg: 'RSA-OAEP-256', key_ops: ['wrapKey'] } };
  const aes = await crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(32)), 'AES-GCM', false, ['encrypt']);
  const raw = () => crypto.subtle.encrypt({ name: 'AES-GCM', iv: crypto.getRandomValues(new Uint8Array(12)) }, aes, photo);
  const cse = () => encryptBlobV2(photo, kek);
  await raw(); await cse(); // warm up
  const out = { raw: [], cse: [], ratio: [] };
  for (let i = 0; i < rounds; i += 1) {
    let t = performance.now(); await raw(); const r = performance.now() - t;
    t = performance.now(); await cse(); const c = performance.now() - t;
    out.raw.push(r); out.cse.push(c); out.ratio.push(c / r);
  }
  return { bytes: photo.length, ...out };
}"""


class _Quiet(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(PATIENT_JS), **kwargs)

    def log_message(self, format, *args):
        pass


def describe(values: list[float], unit: str = "") -> str:
    return f"min {min(values):.2f}{unit}  median {statistics.median(values):.2f}{unit}  max {max(values):.2f}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    photo = make_photo(4000, 3000, seed=7, quality=92)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/lib/")
            result = page.evaluate(MEASURE, [base64.b64encode(photo).decode(), args.rounds])
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    print(f"12 MP photo ({result['bytes'] / 1e6:.1f} MB JPEG), {args.rounds} rounds, headless Chromium")
    print(f"  raw WebCrypto AES-GCM, one call : {describe(result['raw'], ' ms')}")
    print(f"  encryptBlobV2 (v2 regions + wrap): {describe(result['cse'], ' ms')}")
    median = statistics.median(result["ratio"])
    print(f"  ratio encryptBlobV2 / raw        : {describe(result['ratio'], 'x')}  target <= {TARGET}x  {'OK' if median <= TARGET else 'OVER'}")


if __name__ == "__main__":
    main()
