"""Benchmark: the clinician web app in headless Chromium against the local host.

    .venv/bin/python bench/bench_web.py [--cases 200] [--photos 100] [--rounds 5]

Starts its own local stack (Azurite + local host, temporary data), makes a clinic worklist of
--cases shared cases and one case with --photos photos (real photos through the phone's
encryption path and the upload trigger), then measures in Chromium:

- time until interactive: from the start of the page load to the moment the view has rendered its
  data and wired its controls (the app's `skinvault:ready:<view>` performance mark);
- for the case, also the time until the first screen of thumbnails has loaded;
- beside them, the API's own response times (as the browser saw them, and measured directly).

Target: <= 2 s each. Prints figures only; never fails on a slow result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "client"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from tests.e2e.web.helpers import (  # noqa: E402
    CLINICIAN,
    case_id_for,
    launch,
    make_shared_patient,
    share_with_clinic,
    sign_in,
    token,
    upload_photo,
    wait_ready,
    wait_view,
)
from tests.support.stack import LocalStack  # noqa: E402

TARGET_S = 2.0


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def make_worklist(base_url: str, clinic_id: str, n: int) -> None:
    """n patients, each with a folder shared with the clinic (no photos: the worklist is about cases)."""

    def one(i: int) -> None:
        sub = f"bench-patient-{i:04d}"
        t = token(base_url, sub, "patient", f"Bench Patient {i:04d}")
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {t}"}, timeout=60) as api:
            api.put("/api/me", json={"displayName": f"Bench Patient {i:04d}", "dateOfBirth": "1970-01-01", "nhsNumber": None}).raise_for_status()
            api.post("/api/folders", json={"name": "Rash on arm", "bodySite": "left-upper-arm", "condition": "Eczema"}).raise_for_status()
            share_with_clinic(api, clinic_id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(one, range(n)))


def make_big_case(base_url: str, clinic_id: str, photos: int) -> str:
    from datetime import UTC, datetime, timedelta

    from shared_code.services.quotas import MAX_PENDING_UPLOADS
    from tests.support.images import make_photo

    name = "Bench Hundred Photos"
    info = make_shared_patient(base_url, clinic_id, sub="bench-big-case", display_name=name, photos=0, folder_name="Leg ulcer")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=photos + 1)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {info['token']}"}, timeout=120) as api:

        def one(i: int) -> str:
            data = make_photo(1024, 768, seed=1000 + i, gps=False)
            return upload_photo(api, info["folderId"], data, captured_at=start + timedelta(days=i), notes=f"Day {i + 1}")

        ids: list[str] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            # in batches the per-patient quota allows (upload sessions waiting at once)
            for first in range(0, photos, MAX_PENDING_UPLOADS):
                batch = list(pool.map(one, range(first, min(first + MAX_PENDING_UPLOADS, photos))))
                wait_ready(api, batch, timeout=600)
                ids += batch
    return case_id_for(base_url, token(base_url, CLINICIAN["sub"], "clinician", CLINICIAN["name"]), name)


def api_direct_ms(base_url: str, path: str, params: dict[str, str] | None, rounds: int) -> list[float]:
    t = token(base_url, CLINICIAN["sub"], "clinician", CLINICIAN["name"])
    out = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {t}"}, timeout=60) as api:
        api.get(path, params=params).raise_for_status()  # warm
        for _ in range(rounds):
            started = time.perf_counter()
            api.get(path, params=params).raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
    return out


READY = "(name) => { const m = performance.getEntriesByName('skinvault:ready:' + name); return m.length ? m[m.length - 1].startTime : null; }"
API_TIMES = "(part) => performance.getEntriesByType('resource').filter(e => e.name.includes(part)).map(e => e.responseEnd - e.requestStart)"
THUMBS_IN_VIEW = """() => {
  const imgs = [...document.querySelectorAll('img.app-thumb__img')].filter(i => i.getBoundingClientRect().top < innerHeight);
  return imgs.length > 0 && imgs.every(i => i.dataset.state === 'loaded') ? performance.now() : null;
}"""


def measure(browser, base_url: str, path: str, view: str, api_part: str, rounds: int, *, config: dict | None = None, thumbs: bool = False):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base_url)
    page = ctx.new_page()
    if config:
        page.route("**/config.json", lambda route: route.fulfill(json=config))
    sign_in(page, base_url)
    wait_view(page, "worklist", timeout=60000)
    ready, api, shown = [], [], []
    for _ in range(rounds):
        page.goto(path)  # a full page load each round: script, config, token check, API, render
        wait_view(page, view, timeout=60000)
        ready.append(page.evaluate(READY, view))
        api.extend(page.evaluate(API_TIMES, api_part))
        if thumbs:
            page.wait_for_function(THUMBS_IN_VIEW, timeout=60000)
            shown.append(page.evaluate(THUMBS_IN_VIEW))
    rows = page.locator("tbody tr").count() if view == "worklist" else page.locator("img.app-thumb__img").count()
    ctx.close()
    return ready, api, shown, rows


def line(label: str, values_ms: list[float], api_ms: list[float], direct_ms: list[float]) -> str:
    m = med(values_ms) / 1000
    verdict = "within target" if m <= TARGET_S else "OVER TARGET"
    return (
        f"  {label:<46} interactive median {m:5.2f} s (max {max(values_ms) / 1000:4.2f} s)  "
        f"API in browser median {med(api_ms):6.1f} ms, direct median {med(direct_ms):6.1f} ms  [target <= {TARGET_S:.0f} s: {verdict}]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        stack = LocalStack(Path(tmp)).start()
        try:
            t0 = time.perf_counter()
            seeded = stack.seed_demo()
            make_worklist(stack.base_url, seeded["clinicId"], max(0, args.cases - 2))  # + the demo case + the big case
            big_case = make_big_case(stack.base_url, seeded["clinicId"], args.photos)
            total_cases = max(args.cases, 2)
            print(f"setup: {total_cases} cases, one with {args.photos} photos, in {time.perf_counter() - t0:.0f} s")

            d_page = api_direct_ms(stack.base_url, "/api/clinic/cases", {"filter": "all", "limit": "50"}, args.rounds * 2)
            d_all = api_direct_ms(stack.base_url, "/api/clinic/cases", {"filter": "all", "limit": "200"}, args.rounds * 2)
            d_case = api_direct_ms(stack.base_url, f"/api/clinic/cases/{big_case}", None, args.rounds * 2)

            with sync_playwright() as p:
                browser = launch(p)
                try:
                    r1, a1, _, n1 = measure(browser, stack.base_url, "/", "worklist", "/api/clinic/cases?", args.rounds)
                    r2, a2, _, n2 = measure(
                        browser,
                        stack.base_url,
                        "/",
                        "worklist",
                        "/api/clinic/cases?",
                        args.rounds,
                        config={"auth": {"mode": "dev"}, "worklistPageSize": 200, "caseRefreshSeconds": 0},
                    )
                    r3, a3, s3, n3 = measure(
                        browser, stack.base_url, f"/cases/{big_case}", "case", f"/api/clinic/cases/{big_case}", args.rounds, thumbs=True
                    )
                finally:
                    browser.close()

            print(f"web app in headless Chromium, 1280x800, {args.rounds} full page loads each (median; target <= {TARGET_S:.0f} s):")
            print(line(f"worklist of {total_cases} cases, first page ({n1} rows)", r1, a1, d_page))
            print(line(f"worklist of {total_cases} cases, one page of {n2} rows", r2, a2, d_all))
            print(line(f"case of {args.photos} photos ({n3} thumbnails, lazy)", r3, a3, d_case))
            print(f"  {'case: first screen of thumbnails loaded':<46} median {med(s3) / 1000:5.2f} s (max {max(s3) / 1000:4.2f} s)")
        finally:
            stack.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # noqa: BLE001 - a benchmark prints, it never fails the build
        print(f"bench_web did not finish: {type(exc).__name__}: {exc}")
        sys.exit(0)
