"""Ops commands over the app's own services (issue 18): `python -m scripts.manage COMMAND ...`.

    stuck    [--older-than MIN]                          pending uploads, stuck exports, poisoned messages
    redrive  uploads|exports|poison [--older-than MIN] [--queue Q] [--dry-run]
    rotate-kek [--new-version] [--dry-run]               (new local KEK version, then) rewrap patient data keys
    kek-rate [--log FILE|-] [--minutes N] [--kql]        Key Vault (KEK) operation rate from the app's log lines

Settings come from the environment, as in the Function App (in Azure: run it where the app's
identity and network reach Storage, Cosmos DB and Key Vault); locally from local.settings.json
(``--settings``), whose values never override the environment. Every command that changes
something takes --dry-run. Output holds ids, statuses, ages and counts only (--json for scripts);
mutating commands also report the KEK operations they cost.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.rewrap_keys import _load_local_settings  # noqa: E402 - after the path set-up

KEY_VAULT_OPS_PER_10S = 500  # RSA-3072 HSM operations per 10 s per vault (Key Vault service limits)
KEK_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)\S*\s.*skinvault\.kek\s+kek operations window_seconds=(?P<window>\d+)"
    r" wrap=(?P<wrap>\d+) unwrap=(?P<unwrap>\d+) per_10s=(?P<rate>[\d.]+)"
)
KQL = """// Log Analytics / Application Insights: Key Vault operations of the Function App, per 10 s window
traces
| where message startswith "kek operations"
| parse message with * "wrap=" wrap:long " unwrap=" unwrap:long " per_10s=" per10s:real
| summarize operations = sum(wrap + unwrap), peak_per_10s = max(per10s) by bin(timestamp, 5m)
| order by timestamp desc
// Key Vault's own view: AzureMetrics | where ResourceProvider == "MICROSOFT.KEYVAULT" and MetricName in ("ServiceApiHit", "ServiceApiLatency")"""


def _emit(data: dict[str, Any], as_json: bool, out: TextIO, text: Iterable[str]) -> None:
    if as_json:
        out.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        for line in text:
            out.write(line + "\n")


def _kek_cost(before: Any) -> dict[str, int]:
    from shared_code.adapters.kek_operations import KEK_OPERATIONS

    after = KEK_OPERATIONS.counts()
    return {"wrap": after.wrap - before.wrap, "unwrap": after.unwrap - before.unwrap}


def _rows(items: list[dict[str, Any]], fields: tuple[str, ...]) -> list[str]:
    return ["  " + "  ".join(f"{f}={item.get(f)}" for f in fields if item.get(f) not in (None, "")) for item in items]


# ----------------------------------------------------------------------------- commands
def _upload_queues(services: Any) -> Any:
    """The uploads account's queues (the blob trigger's poison queue lives there)."""
    from shared_code import bootstrap

    return bootstrap.build_upload_queues(services.settings)


def cmd_stuck(services: Any, args: argparse.Namespace, out: TextIO) -> int:
    from shared_code.services import operations

    report = operations.stuck(services, timedelta(minutes=args.older_than), upload_queues=_upload_queues(services)).as_dict()
    lines = [f"pending uploads older than {args.older_than} min: {len(report['uploads'])}"]
    lines += _rows(report["uploads"], ("patientId", "id", "ageMinutes", "detail"))
    lines.append(f"exports queued/running for more than {args.older_than} min: {len(report['exports'])}")
    lines += _rows(report["exports"], ("patientId", "id", "status", "ageMinutes"))
    lines.append(f"messages in poison queues: {len(report['poisoned'])}")
    lines += _rows(report["poisoned"], ("queue", "messageId", "kind", "BlobName", "dequeueCount", "insertedOn"))
    _emit(report, args.json, out, lines)
    return 0


def cmd_redrive(services: Any, args: argparse.Namespace, out: TextIO) -> int:
    from shared_code.adapters.kek_operations import KEK_OPERATIONS
    from shared_code.ports import QUEUES
    from shared_code.services import operations

    before = KEK_OPERATIONS.counts()
    older = timedelta(minutes=args.older_than)
    if args.what == "uploads":
        report = operations.redrive_uploads(services, older, dry_run=args.dry_run, upload_queues=_upload_queues(services))
    elif args.what == "exports":
        report = operations.redrive_exports(services, older, dry_run=args.dry_run)
    else:
        queues = tuple(args.queue) if args.queue else QUEUES
        unknown = sorted(set(queues) - set(QUEUES))
        if unknown:
            out.write(f"unknown queue: {', '.join(unknown)} (known: {', '.join(QUEUES)})\n")
            return 2
        report = operations.redrive_poisoned(services, queues, dry_run=args.dry_run)
    data = {**report.as_dict(), "kekOperations": _kek_cost(before)}
    verb = "would re-drive" if args.dry_run else "re-driven"
    lines = [f"{args.what} {verb}: {len(report.done)}"]
    lines += _rows(report.done, ("queue", "messageId", "patientId", "id", "kind", "outcome", "status", "poisonDropped"))
    if report.skipped:
        lines.append(f"left alone: {len(report.skipped)}")
        lines += _rows(report.skipped, ("queue", "messageId", "patientId", "id", "reason", "outcome"))
    lines.append("kek operations: wrap={wrap} unwrap={unwrap}".format(**data["kekOperations"]))
    _emit(data, args.json, out, lines)
    return 0


def cmd_rotate_kek(services: Any, args: argparse.Namespace, out: TextIO) -> int:
    from shared_code.adapters.kek_operations import KEK_OPERATIONS
    from shared_code.services import operations

    if services.data_keys is None:
        out.write("this store has no per-patient data keys: nothing to rewrap\n")
        return 2
    before = KEK_OPERATIONS.counts()
    try:
        report = operations.rotate_kek(services, new_version=args.new_version, dry_run=args.dry_run)
    except ValueError as exc:
        out.write(f"{exc}\n")
        return 2
    data = {**report.as_dict(), "kekOperations": _kek_cost(before)}
    if args.dry_run:
        lines = [
            f"current KEK: {report.current_kid}" + (" (a new version would be made)" if args.new_version else ""),
            f"patient data keys that would be rewrapped: {report.rewrapped}, already under the current KEK: {report.unchanged}",
        ]
    else:
        lines = [
            f"KEK: {report.previous_kid} -> {report.current_kid}" if report.rotated else f"KEK: {report.current_kid}",
            f"patient data keys rewrapped: {report.rewrapped}, already under the current KEK: {report.unchanged}",
        ]
    lines.append("kek operations: wrap={wrap} unwrap={unwrap}".format(**data["kekOperations"]))
    _emit(data, args.json, out, lines)
    return 0


@dataclass(frozen=True)
class KekWindow:
    at: datetime
    seconds: int
    wrap: int
    unwrap: int
    per_10s: float


def read_kek_windows(lines: Iterable[str]) -> list[KekWindow]:
    """The `kek operations ...` lines the KEK adapters log (one per worker per minute with any)."""
    windows = []
    for line in lines:
        m = KEK_LINE.search(line)
        if m:
            at = datetime.fromisoformat(m["at"].replace(" ", "T"))
            windows.append(KekWindow(at, int(m["window"]), int(m["wrap"]), int(m["unwrap"]), float(m["rate"])))
    return windows


def kek_rate_summary(windows: list[KekWindow], *, minutes: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    if minutes is not None and windows:
        cutoff = (now or max(w.at for w in windows)) - timedelta(minutes=minutes)
        windows = [w for w in windows if w.at >= cutoff]
    wrap, unwrap = sum(w.wrap for w in windows), sum(w.unwrap for w in windows)
    seconds = sum(w.seconds for w in windows)
    peak = max((w.per_10s for w in windows), default=0.0)
    return {
        "windows": len(windows),
        "wrap": wrap,
        "unwrap": unwrap,
        "operations": wrap + unwrap,
        "averagePer10s": round((wrap + unwrap) * 10 / seconds, 2) if seconds else 0.0,
        "peakPer10s": peak,
        "vaultLimitPer10s": KEY_VAULT_OPS_PER_10S,
        "peakShareOfLimit": round(peak / KEY_VAULT_OPS_PER_10S, 4),
    }


def cmd_kek_rate(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    if args.kql:
        out.write(KQL + "\n")
        return 0
    if args.log == "-":
        windows = read_kek_windows(stdin)
    else:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            windows = read_kek_windows(f)
    summary = kek_rate_summary(windows, minutes=args.minutes)
    lines = [
        f"KEK (Key Vault) operations in {summary['windows']} logged window(s): wrap={summary['wrap']} unwrap={summary['unwrap']}",
        f"average per 10 s: {summary['averagePer10s']}; peak per 10 s: {summary['peakPer10s']} "
        f"({summary['peakShareOfLimit']:.2%} of the vault's {KEY_VAULT_OPS_PER_10S} per 10 s; per worker, add workers up)",
    ]
    _emit(summary, args.json, out, lines)
    return 0


# ----------------------------------------------------------------------------- entry point
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scripts.manage", description=__doc__.split("\n\n")[0])
    p.add_argument("--settings", default=str(ROOT / "local.settings.json"), help="local.settings.json to read (local runs)")
    p.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("stuck", help="list pending uploads, stuck exports and poisoned messages")
    s.add_argument("--older-than", type=int, default=15, metavar="MIN", help="minutes (default 15)")

    r = sub.add_parser("redrive", help="re-drive stuck uploads, stuck exports or poisoned messages")
    r.add_argument("what", choices=("uploads", "exports", "poison"))
    r.add_argument("--older-than", type=int, default=15, metavar="MIN", help="uploads/exports: minutes (default 15)")
    r.add_argument("--queue", action="append", help="poison: this queue only (repeatable; default all)")
    r.add_argument("--dry-run", action="store_true", help="report what would be done, change nothing")

    k = sub.add_parser("rotate-kek", help="(make a new local KEK version, then) rewrap every patient data key under the current KEK")
    k.add_argument("--new-version", action="store_true", help="local KEK: make a new version first (Key Vault rotates its own key)")
    k.add_argument("--dry-run", action="store_true", help="count what would be rewrapped, change nothing")

    rate = sub.add_parser("kek-rate", help="Key Vault operation rate from the app's `kek operations` log lines")
    rate.add_argument("--log", default="-", help="log file of the app (default: standard input)")
    rate.add_argument("--minutes", type=int, default=None, help="only the last N minutes of the log")
    rate.add_argument("--kql", action="store_true", help="print the Log Analytics query for the deployed app instead")
    return p


def main(argv: list[str] | None = None, *, out: TextIO | None = None, stdin: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    out = out or sys.stdout
    for name in ("older_than", "minutes"):
        if (getattr(args, name, None) or 0) < 0:
            out.write(f"--{name.replace('_', '-')} must not be negative\n")
            return 2
    if args.command == "kek-rate":
        return cmd_kek_rate(args, out, stdin or sys.stdin)
    _load_local_settings(Path(args.settings))

    from shared_code import bootstrap
    from shared_code.config import SettingsError

    try:
        services = bootstrap.services()
    except SettingsError as exc:
        out.write(f"{exc} (run where the app's settings are, or pass --settings local.settings.json)\n")
        return 2
    commands = {"stuck": cmd_stuck, "redrive": cmd_redrive, "rotate-kek": cmd_rotate_kek}
    return commands[args.command](services, args, out)


if __name__ == "__main__":
    raise SystemExit(main())
