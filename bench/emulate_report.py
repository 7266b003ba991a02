#!/usr/bin/env python3
"""The report of bench/emulate.sh: the emulator's figures, and the store checked against the
fake destination's receipts.

usage: emulate_report.py OUT_DIR T0_MS T1_MS T2_MS  (emulator start, emulator end, queue empty)

The receiver records a hash of each request's Idempotency-Key (Java's String.hashCode), and the
http connector sends the delivery's id as that key; so the store's delivered deliveries, hashed
the same way, must equal the receiver's records as multisets: nothing missing, nothing unknown,
nothing twice.
"""
import json
import sqlite3
import sys
from collections import Counter
from pathlib import Path


def java_hash(text: str) -> int:
    h = 0
    for ch in text:  # delivery ids are ASCII: one UTF-16 unit per character
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= (1 << 31) else h


def main() -> None:
    out = Path(sys.argv[1])
    t0, t1, t2 = (int(v) for v in sys.argv[2:5])
    emu = json.loads((out / "emulator.json").read_text() or "{}")
    lat = emu.get("ack_latency_ms", {})
    con = sqlite3.connect(f"file:{out / 'emulate.db'}?mode=ro", uri=True)
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    states = dict(con.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
    delivered = Counter(
        java_hash(row[0])
        for row in con.execute("SELECT id FROM deliveries WHERE state = 'delivered'")
    )
    multi = con.execute(
        "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND attempts > 1"
    ).fetchone()[0]
    con.close()
    received = Counter()
    for line in (out / "receiver.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            received[int(parts[2])] += 1
    missing = sum((delivered - received).values())
    unknown = sum((received - delivered).values())
    twice = sum(n - 1 for n in received.values() if n > 1)
    receipts = sum(received.values())
    log = (out / "gateway.log").read_text(errors="replace").splitlines()
    warns = sum(1 for line in log if '"level":"WARN"' in line or " WARN " in line)
    errors = sum(1 for line in log if '"level":"ERROR"' in line or " ERROR " in line)
    ok = missing == 0 and unknown == 0 and twice == 0 and emu.get("failed", 0) == 0
    sent_s = (t1 - t0) / 1000
    w = print
    w("# Switchboard driven by the emulator\n")
    w(f"Command: `{(out / 'command.txt').read_text().strip()}`\n")
    w("| figure | value |")
    w("|---|---|")
    w(f"| requests sent (with the emulator's retries) | {emu.get('sent', 0):,} in {sent_s:.1f} s "
      f"= {emu.get('sent', 0) / max(sent_s, 0.001):,.0f}/s |")
    w(f"| accepted (202) / duplicate (200) / rejected / retried / failed | {emu.get('accepted', 0):,} / "
      f"{emu.get('duplicate', 0):,} / {emu.get('rejected', 0):,} / {emu.get('retried', 0):,} / "
      f"{emu.get('failed', 0):,} |")
    w(f"| ack latency p50 / p90 / p99 / max | {lat.get('p50', 0):.1f} / {lat.get('p90', 0):.1f} / "
      f"{lat.get('p99', 0):.1f} / {lat.get('max', 0):.1f} ms |")
    w(f"| events stored | {events:,} |")
    w(f"| deliveries by state | {', '.join(f'{k} {v:,}' for k, v in sorted(states.items()))} |")
    w(f"| delivered after more than one attempt | {multi:,} |")
    w(f"| receipts at the destination | {receipts:,} |")
    w(f"| delivered but never received / received but unknown to the store / received twice | "
      f"{missing} / {unknown} / {twice} |")
    w(f"| queue empty after the last request | {(t2 - t1) / 1000:.1f} s |")
    w(f"| gateway log WARN / ERROR lines | {warns} / {errors} |")
    if ok:
        w("\n**PASS**: every delivery the store calls delivered arrived once, and nothing else did.")
    else:
        w(f"\n**FAIL**: see the counts above (outputs in {out}).")
    w("\nExact re-sends are answered 200 `duplicate` and stored once. A delivery that the route's "
      "`stale: skip` finds older than one already delivered for its key ends `skipped`, not sent.")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
