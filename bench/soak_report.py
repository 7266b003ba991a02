#!/usr/bin/env python3
"""The sampler and the report of bench/soak.sh (Python 3 standard library only).

  soak_report.py sample OUT GATEWAY_PID PORT RECEIVER_PORT EVERY_S MAX_S LOAD_S
      every EVERY_S seconds (until SIGTERM, OUT/phase says "done", the gateway dies, or MAX_S)
      appends one row to OUT/samples.csv and one JSON line (with the ack-time histogram) to
      OUT/samples.jsonl: the gateway's RSS, threads, open files, CPU, heap after GC and GC pauses
      (from OUT/gc.log), the SQLite file's size and row counts (read-only), the gateway's counters
      (accepted, delivered, backlog, purged rows), the ack-time percentiles over the interval and
      the receiver's counts. At a third, two thirds and the end of the load (LOAD_S) it asks the
      gateway for a full GC (`jcmd PID GC.run`, JCMD in the environment): the heap after it is the
      live set, which the young collections' "after" figures are not (old garbage waits there)
  soak_report.py wait OUT NAME PORT TIMEOUT_S STALL_S
      waits until every event the gateway accepted is delivered to the receiver (the gateway's
      counters: delivered to `receiver` ≥ accepted, and the backlog gauge at 0), or TIMEOUT_S, or
      STALL_S without a delivery or a dead letter; writes OUT/wait-NAME.json
  soak_report.py brief OUT       one line about the CSV row on stdin (progress while the soak runs)
  soak_report.py report OUT      OUT/report.md on stdout; exits 1 when a verdict is FAIL

Verdicts compare the last third of the load with the middle third (the first third is warm-up):
see bench/README.md, "Soak".
"""
import csv
import json
import math
import os
import re
import signal
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402  (the bench's own helpers: /proc samples, Prometheus text)

MIB = 1048576.0
COLUMNS = [
    "t_s", "wall", "phase", "alive",
    "rss_kb", "hwm_kb", "threads", "fds", "cpu_pct", "machine_busy_pct",
    "heap_after_gc_kb", "heap_after_gc_min_kb", "heap_committed_kb", "live_heap_kb",
    "gc_count", "gc_pause_ms_total", "full_gc_count",
    "db_bytes", "wal_bytes", "shm_bytes",
    "events", "deliveries", "attempts", "idempotency_keys", "pending_deliveries", "db_query_ms",
    "accepted", "not_accepted", "delivered", "dead", "retries", "backlog", "purged_events", "purged_attempts",
    "recv_received", "recv_unique", "recv_duplicates", "lag",
    "ack_count", "ack_rps", "ack_p50_ms", "ack_p99_ms", "ack_max_ms",
]
ACK = "switchboard_ingest_ack_seconds_bucket"
GC_RE = re.compile(
    r"^\[(\d+)ms\].*GC\((\d+)\) (Pause \w+).*?(\d+(?:\.\d+)?)([KMG])->(\d+(?:\.\d+)?)([KMG])"
    r"\((\d+(?:\.\d+)?)([KMG])\)\s+(\d+\.\d+)ms")
UNIT_KB = {"K": 1, "M": 1024, "G": 1024 * 1024}


# ---- sampling ---------------------------------------------------------------------------------
def is_forced(line: str) -> bool:
    """A full GC asked for by jcmd GC.run ("Diagnostic Command" on recent JDKs) or System.gc()."""
    return "Pause Full" in line and ("Diagnostic Command" in line or "System.gc()" in line)


def forced_gcs(path: Path) -> list:
    """[(epoch s, heap after KiB)] of the forced full GCs in a GC log."""
    out = []
    try:
        for line in path.read_text(errors="replace").splitlines():
            m = GC_RE.match(line)
            if m and is_forced(line):
                out.append((int(m.group(1)) / 1000.0, float(m.group(6)) * UNIT_KB[m.group(7)]))
    except OSError:
        pass
    return out


class GcLog:
    """Reads the -Xlog:gc file incrementally: pauses, heap after each collection, committed heap."""

    def __init__(self, path: Path):
        self.path, self.offset, self.rest = path, 0, ""
        self.count, self.full, self.pause_ms = 0, 0, 0.0
        self.after_kb, self.committed_kb = None, None

    def read(self) -> list:
        """New collections since the last call: [(epoch s, pause kind, after KiB, committed KiB, ms)]."""
        try:
            with open(self.path, errors="replace") as f:
                f.seek(self.offset)
                text = f.read()
                self.offset = f.tell()
        except OSError:
            return []
        text, self.rest = self.rest + text, ""
        lines = text.split("\n")
        if not text.endswith("\n"):
            self.rest = lines.pop()
        new = []
        for line in lines:
            m = GC_RE.match(line)
            if not m:
                continue
            after = float(m.group(6)) * UNIT_KB[m.group(7)]
            committed = float(m.group(8)) * UNIT_KB[m.group(9)]
            ms = float(m.group(10))
            self.count += 1
            self.full += m.group(3) == "Pause Full"
            self.pause_ms += ms
            self.after_kb, self.committed_kb = after, committed
            kind = "forced" if is_forced(line) else m.group(3)
            new.append((int(m.group(1)) / 1000.0, kind, after, committed, ms))
        return new


def db_figures(db: Path) -> dict:
    """File sizes, and row counts through a short read-only connection (opened and closed every
    time: a reader held open would keep the WAL from being checkpointed)."""
    out = {}
    for key, suffix in (("db_bytes", ""), ("wal_bytes", "-wal"), ("shm_bytes", "-shm")):
        try:
            out[key] = os.stat(str(db) + suffix).st_size
        except OSError:
            out[key] = 0
    t = time.monotonic()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            for table in ("events", "deliveries", "attempts", "idempotency_keys"):
                out[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            out["pending_deliveries"] = con.execute(
                "SELECT count(*) FROM deliveries WHERE state NOT IN ('delivered', 'dead', 'skipped')"
            ).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error as e:
        print(f"[soak] sqlite: {e}", file=sys.stderr)
    out["db_query_ms"] = round((time.monotonic() - t) * 1000, 1)
    return out


def ack_buckets(metrics: dict) -> dict:
    b = {}
    for (n, ls), v in metrics.items():
        if n == ACK:
            le = dict(ls).get("le")
            key = "+Inf" if le == "+Inf" else le
            b[key] = b.get(key, 0.0) + v
    return b


def quantile_ms(delta: dict, q: float):
    """Upper bound (ms) of the bucket holding quantile q of a delta of cumulative buckets."""
    items = sorted(((math.inf if k == "+Inf" else float(k)), v) for k, v in delta.items())
    if not items or items[-1][1] <= 0:
        return None
    total = items[-1][1]
    for le, cum in items:
        if cum >= q * total:
            return None if le == math.inf else round(le * 1000, 3)
    return None


def bucket_delta(after: dict, before: dict) -> dict:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}


def force_gc(pid: int) -> None:
    """A full collection in the gateway (jcmd GC.run: System.gc()), logged in its GC log."""
    import subprocess
    jcmd = os.environ.get("JCMD", "jcmd")
    try:
        subprocess.run([jcmd, str(pid), "GC.run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"[soak] jcmd: {e}", file=sys.stderr)


def cmd_sample(out: Path, pid: int, port: str, rport: str, every: float, max_s: float,
               load_s: float) -> None:
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("now", True))
    gc = GcLog(out / "gc.log")
    csv_path, jsonl_path = out / "samples.csv", out / "samples.jsonl"
    with open(csv_path, "w", newline="") as f:
        csv.writer(f).writerow(COLUMNS)
    start = time.monotonic()
    prev = None  # (mono, ticks, machine, buckets)
    base = None  # (accepted, received) at the first sample
    # full GCs asked for at these times into the load (the live set at the thirds' boundaries)
    gc_at = [load_s / 3, 2 * load_s / 3, max(load_s - every / 2, 2 * load_s / 3 + 1)]
    next_at = start
    while not stop["now"] and time.monotonic() - start < max_s:
        now = time.monotonic()
        row = {"t_s": round(now - start, 1), "wall": round(time.time(), 3)}
        try:
            row["phase"] = (out / "phase").read_text().strip()
        except OSError:
            row["phase"] = "?"
        try:
            p = benchlib.proc_sample(pid)
            row.update(alive=1, rss_kb=p["rss_kb"], hwm_kb=p["hwm_kb"], threads=p["threads"])
            row["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
            ticks = p["ticks"]
        except (OSError, ValueError):
            row["alive"], ticks = 0, None
        machine = benchlib.machine_cpu()
        if gc_at and now - start >= gc_at[0] and row.get("alive"):
            gc_at.pop(0)
            force_gc(pid)
            time.sleep(0.5)  # the GC log line is written just after the pause
        new_gcs = gc.read()
        forced = [g[2] for g in new_gcs if g[1] == "forced"]
        if forced:
            row["live_heap_kb"] = forced[-1]
        row.update(gc_count=gc.count, gc_pause_ms_total=round(gc.pause_ms, 1), full_gc_count=gc.full,
                   heap_after_gc_kb=gc.after_kb, heap_committed_kb=gc.committed_kb,
                   heap_after_gc_min_kb=min((g[2] for g in new_gcs if g[1] != "forced"), default=None))
        row.update(db_figures(out / "soak.db"))
        # the receiver first, then the gateway: an event counted by the receiver is already
        # counted as accepted by the time the gateway is read, so the lag is never negative
        try:
            st = json.loads(benchlib.http_get(f"http://127.0.0.1:{rport}/stats", 10))
            row.update(recv_received=st["received"], recv_unique=st["unique"], recv_duplicates=st["duplicates"])
        except (OSError, ValueError, KeyError) as e:
            print(f"[soak] receiver: {e}", file=sys.stderr)
        buckets = None
        if row["alive"]:
            try:
                m = benchlib.parse_prom_text(benchlib.http_get(f"http://127.0.0.1:{port}/metrics", 10))
                outcomes = benchlib.prom_outcomes(m, clients_only=True)
                row["accepted"] = int(outcomes.get("accepted", 0))
                row["not_accepted"] = int(sum(v for k, v in outcomes.items() if k != "accepted"))
                row["delivered"] = int(benchlib.prom_sum(m, "switchboard_deliveries_total", destination="receiver", outcome="delivered"))
                row["dead"] = int(benchlib.prom_sum(m, "switchboard_deliveries_total", outcome="dead"))
                row["retries"] = int(benchlib.prom_sum(m, "switchboard_deliveries_total", outcome="retry"))
                row["backlog"] = int(benchlib.prom_sum(m, "switchboard_backlog"))
                row["purged_events"] = int(benchlib.prom_sum(m, "switchboard_retention_purged_rows_total", table="events"))
                row["purged_attempts"] = int(benchlib.prom_sum(m, "switchboard_retention_purged_rows_total", table="attempts"))
                row["ack_max_ms"] = round(benchlib.prom_sum(m, "switchboard_ingest_ack_seconds_max") * 1000, 3)
                buckets = ack_buckets(m)
            except (OSError, ValueError) as e:
                print(f"[soak] metrics: {e}", file=sys.stderr)
        if "accepted" in row and "recv_unique" in row:
            if base is None:
                base = (row["accepted"], row["recv_unique"])
            # events accepted but not yet at the receiver, since the sampler started (the probe's
            # events went to an earlier receiver)
            row["lag"] = (row["accepted"] - base[0]) - (row["recv_unique"] - base[1])
        if prev is not None:
            secs = max(now - prev[0], 1e-6)
            if ticks is not None and prev[1] is not None:
                row["cpu_pct"] = round(100.0 * (ticks - prev[1]) / benchlib.CLK_TCK / secs, 1)
            d = [y - x for x, y in zip(prev[2], machine)]
            total = sum(d[:8]) or 1
            row["machine_busy_pct"] = round(100.0 * (total - d[3] - d[4]) / total * (os.cpu_count() or 1), 1)
            if buckets is not None and prev[3] is not None:
                delta = bucket_delta(buckets, prev[3])
                n = delta.get("+Inf", 0.0)
                row["ack_count"] = int(n)
                row["ack_rps"] = round(n / secs, 1)
                row["ack_p50_ms"] = quantile_ms(delta, 0.50)
                row["ack_p99_ms"] = quantile_ms(delta, 0.99)
        prev = (now, ticks, machine, buckets)
        with open(csv_path, "a", newline="") as f:
            csv.writer(f).writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS])
        with open(jsonl_path, "a") as f:
            f.write(json.dumps(dict(row, ack_buckets=buckets)) + "\n")
        if not row["alive"] or row["phase"] == "done":
            break
        next_at += every
        while not stop["now"] and time.monotonic() < next_at:
            time.sleep(min(0.2, max(0.0, next_at - time.monotonic())))


def gateway_totals(port: str) -> tuple:
    m = benchlib.parse_prom_text(benchlib.http_get(f"http://127.0.0.1:{port}/metrics", 30))
    accepted = benchlib.prom_outcomes(m).get("accepted", 0)
    delivered = benchlib.prom_sum(m, "switchboard_deliveries_total", destination="receiver", outcome="delivered")
    finished = benchlib.prom_sum(m, "switchboard_deliveries_total", outcome="delivered") + benchlib.prom_sum(
        m, "switchboard_deliveries_total", outcome="dead")
    return accepted, delivered, finished, benchlib.prom_sum(m, "switchboard_backlog")


def cmd_wait(out: Path, name: str, port: str, timeout: float, stall: float) -> None:
    """Every accepted event has one delivery to the receiver: done when the gateway counts as many
    delivered there as it accepted and its backlog gauge (every destination) is 0."""
    start = time.monotonic()
    reason, last, last_change, figures = None, None, start, (0, 0, 0, 0)
    while True:
        now = time.monotonic()
        try:
            figures = gateway_totals(port)
        except (OSError, ValueError) as e:
            reason = f"gateway unreachable: {e}"
            break
        accepted, delivered, finished, backlog = figures
        if finished != last:
            last, last_change = finished, now
        if delivered >= accepted and backlog <= 0:
            reason = "delivered"
            break
        if now - start >= timeout:
            reason = "timeout"
            break
        if now - last_change >= stall:
            reason = "stalled"
            break
        time.sleep(0.5)
    res = {"name": name, "done": reason == "delivered", "reason": reason,
           "waited_s": round(time.monotonic() - start, 2), "accepted": figures[0],
           "delivered_to_receiver": figures[1], "gateway_backlog_after": figures[3]}
    (out / f"wait-{name}.json").write_text(json.dumps(res) + "\n")


def cmd_brief(line: str) -> str:
    r = next(csv.DictReader([",".join(COLUMNS), line]))

    def mib(k):
        return f"{float(r[k]) / 1024:.0f}" if r.get(k) else "?"

    db = (float(r["db_bytes"] or 0) + float(r["wal_bytes"] or 0)) / MIB
    return (f"RSS {mib('rss_kb')} MiB, heap after GC {mib('heap_after_gc_kb')} MiB, DB {db:.0f} MiB, "
            f"events {r['events'] or '?'}, ack p99 {r['ack_p99_ms'] or '?'} ms, backlog {r['backlog'] or '?'}, "
            f"lag {r['lag'] or '?'}, received {r['recv_unique'] or '?'}")


# ---- the report -------------------------------------------------------------------------------
def num(v):
    return None if v is None or v == "" else float(v)


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def slope_per_h(points):
    """Least-squares slope of [(t_s, value)] in units per hour."""
    pts = [(t, v) for t, v in points if v is not None]
    if len(pts) < 3:
        return None
    mt = sum(t for t, _ in pts) / len(pts)
    mv = sum(v for _, v in pts) / len(pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return None if den == 0 else sum((t - mt) * (v - mv) for t, v in pts) / den * 3600


def settings(out: Path) -> dict:
    s = {}
    try:
        for line in (out / "settings.txt").read_text().splitlines():
            k, _, v = line.partition("=")
            s[k.strip()] = v.strip()
    except OSError:
        pass
    return s


def load_samples(out: Path) -> list:
    rows = []
    try:
        for line in (out / "samples.jsonl").read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    except (OSError, ValueError):
        pass
    return rows


def lost_check(out: Path) -> dict:
    """Every key the client saw answered 2xx must be among the receiver's records (a bit per key:
    a 30-minute soak has millions)."""
    seen = bytearray()
    receipts, distinct = 0, 0
    try:
        with open(out / "receiver.txt") as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                receipts += 1
                k = int(parts[0])
                if k < 0:
                    continue
                if k >> 3 >= len(seen):
                    seen.extend(bytes((k >> 3) - len(seen) + 1 + (1 << 20)))
                if not seen[k >> 3] & (1 << (k & 7)):
                    seen[k >> 3] |= 1 << (k & 7)
                    distinct += 1
    except OSError as e:
        return {"error": f"no receiver records: {e}"}
    acked, non2xx, missing, examples = 0, 0, 0, []
    try:
        with open(out / "send-log.txt") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                if not 200 <= int(parts[2]) < 300:
                    non2xx += 1
                    continue
                acked += 1
                k = int(parts[0])
                if k >> 3 >= len(seen) or not seen[k >> 3] & (1 << (k & 7)):
                    missing += 1
                    if len(examples) < 5:
                        examples.append(k)
    except OSError as e:
        return {"error": f"no send log: {e}"}
    return {"acked": acked, "non2xx_or_unanswered": non2xx, "received_keys": distinct,
            "receipts": receipts, "missing": missing, "missing_examples": examples}


def cmd_report(out: Path) -> int:
    s = settings(out)
    rows = load_samples(out)
    rate = float(s.get("rate", 0) or 0)
    dur = float(s.get("duration_s", 0) or 0)
    t_load0 = float(s.get("load_t0", 0) or 0)
    client = benchlib.load_json(out / "rate.json") or {}
    drain = benchlib.load_json(out / "wait-drain.json") or {}
    w = print
    fails, notes = [], []

    # times relative to the start of the load
    for r in rows:
        r["t"] = r["wall"] - t_load0 if t_load0 else r["t_s"]
    load = [r for r in rows if r.get("phase") == "load" and r["t"] >= 0]
    third = dur / 3 if dur else 0
    mid = [r for r in load if third <= r["t"] < 2 * third]
    last = [r for r in load if r["t"] >= 2 * third]

    w("# Switchboard soak\n")
    w(f"- {s.get('minutes', '?')} min at a constant **{rate:,.0f} requests/s** ({s.get('rate_note', '')}), "
      f"{s.get('connections', '?')} connections (RateClient, open loop); every event routed to the fake destination "
      f"(Receiver.java, answers 200 at once; destination concurrency {s.get('concurrency', '?')})"
      + ("; one event in sixty also routed to a destination on a closed port (3 attempts, then a dead letter)."
         if s.get("failing_route") == "1" else "."))
    w(f"- Store: a fresh SQLite file, retention `delivered: {s.get('retention')}`, `dead: {s.get('retention')}`, "
      f"`interval: {s.get('retention_interval')}`; idempotency `ttl: {s.get('retention')}`.")
    w(f"- Gateway JVM: `{s.get('gateway_java_opts', '')}` ({s.get('java', '')}); jar {s.get('jar', '')}; "
      f"{s.get('cpus', '?')} CPUs; samples every {s.get('sample_s', '?')} s.")
    busy = mean([num(r.get("machine_busy_pct")) for r in load])
    gw = mean([num(r.get("cpu_pct")) for r in load])
    if busy is not None and gw is not None:
        w(f"- Machine busy {busy:.0f} % of a core on average during the load, of which the gateway "
          f"{gw:.0f} % (the rest: the client, the receiver, the sampler and anything else running).")
    w("")

    # ---- table over time
    period = 60 if dur >= 600 else 30
    w(f"## Over time (every {period} s of the load, then the drain)\n")
    w("| t | phase | RSS MiB | heap after GC MiB (lowest young / last) | live heap MiB | heap committed MiB | GC pauses ms | threads | fds "
      "| DB + WAL MiB | WAL MiB | events | deliveries | attempts | idem. keys | purged events | ack/s "
      "| ack p50 / p99 ms | backlog (max) | lag (max) | received |")
    w("|" + "---|" * 21)
    groups = {}
    for r in rows:
        if r.get("phase") not in ("load", "drain"):
            continue
        key = ("load", int(r["t"] // period)) if r["phase"] == "load" else ("drain", 0)
        groups.setdefault(key, []).append(r)
    prev_last = None
    forced = forced_gcs(out / "gc.log")
    for key in sorted(groups, key=lambda k: (k[0] != "load", k[1])):
        g = groups[key]
        e = g[-1]
        first_b = prev_last.get("ack_buckets") if prev_last else None
        d = bucket_delta(e["ack_buckets"], first_b) if e.get("ack_buckets") and first_b else {}
        p50, p99 = quantile_ms(d, 0.5), quantile_ms(d, 0.99)
        secs = e["wall"] - prev_last["wall"] if prev_last else 0
        acks = d.get("+Inf", 0) / secs if secs > 0 else None
        gcms = e.get("gc_pause_ms_total", 0) - (prev_last.get("gc_pause_ms_total", 0) if prev_last else 0)
        mins = [x.get("heap_after_gc_min_kb") for x in g if x.get("heap_after_gc_min_kb") is not None]
        lo = prev_last["wall"] if prev_last else 0
        live = [kb for t, kb in forced if lo < t <= e["wall"]]

        def f(v, div=1.0, fmt="{:,.0f}"):
            return "" if v is None else fmt.format(v / div)

        label = f"{key[1] * period / 60:.1f} min" if key[0] == "load" else "drained"
        w(f"| {label} | {key[0]} | {f(e.get('rss_kb'), 1024)} | {f(min(mins) if mins else None, 1024)} / "
          f"{f(e.get('heap_after_gc_kb'), 1024)} | {f(live[-1] if live else None, 1024)} | "
          f"{f(e.get('heap_committed_kb'), 1024)} | {gcms:,.0f} | "
          f"{e.get('threads', '')} | {e.get('fds', '')} | "
          f"{f((e.get('db_bytes') or 0) + (e.get('wal_bytes') or 0), MIB, '{:,.1f}')} | {f(e.get('wal_bytes'), MIB, '{:,.1f}')} | "
          f"{f(e.get('events'))} | {f(e.get('deliveries'))} | {f(e.get('attempts'))} | {f(e.get('idempotency_keys'))} | "
          f"{f(e.get('purged_events'))} | {f(acks)} | {f(p50, 1, '{:g}')} / {f(p99, 1, '{:g}')} | "
          f"{f(max((x.get('backlog') or 0) for x in g))} | {f(max((x.get('lag') or 0) for x in g))} | "
          f"{f(e.get('recv_unique'))} |")
        prev_last = e
    w("\nLatency here is the gateway's own ack-time histogram (`switchboard_ingest_ack_seconds`, from the "
      "handler's start to the answer): the upper bound of the bucket holding the percentile, so coarse "
      "(buckets about 10-30 % apart). The client's own figures over the whole soak are below. Heap after GC: "
      "after the young collections (old garbage stays until a full GC, so it creeps up); live heap: after "
      "a full GC the sampler asks for (`jcmd GC.run`) at a third, two thirds and the end of the load. Lag: "
      "events accepted minus events received since the load began (a few below 0 now and then: the "
      "gateway counts an event accepted just after its answer, and it may be delivered first).\n")

    # ---- verdicts per series
    w("## Verdicts: last third against the middle third\n")
    w(f"Warm-up: the first third of the load (0-{third / 60:.1f} min) is not judged. Middle third "
      f"{third / 60:.1f}-{2 * third / 60:.1f} min ({len(mid)} samples), last third {2 * third / 60:.1f}-"
      f"{dur / 60:.1f} min ({len(last)} samples). Slope: least squares over the middle and last thirds, per hour.\n")
    w("| series | middle third | last third | change | slope /h | bounded when | verdict |")
    w("|---|---|---|---|---|---|---|")

    def judge(name, unit, div, pick, agg, rule_text, ok_fn, slope_key=None):
        mvals = [pick(r) for r in mid]
        lvals = [pick(r) for r in last]
        mv, lv = agg([v for v in mvals if v is not None]), agg([v for v in lvals if v is not None])
        if mv is None or lv is None:
            w(f"| {name} | | | | | {rule_text} | **FAIL** (no data) |")
            fails.append(f"{name}: no data")
            return
        ok = ok_fn(mv, lv)
        sl = slope_per_h([(r["t"], pick(r)) for r in mid + last])
        change = f"{(lv - mv) / mv * 100:+.1f} %" if mv else f"{lv - mv:+,.1f}"
        slope = "" if sl is None else f"{sl / div:+,.1f} {unit}"
        verdict = "(information)" if rule_text == "(not judged)" else ("PASS" if ok else "**FAIL**")
        w(f"| {name} | {mv / div:,.1f} {unit} | {lv / div:,.1f} {unit} | {change} | {slope} | {rule_text} | "
          f"{verdict} |")
        if not ok:
            fails.append(f"{name}: {mv / div:,.1f} -> {lv / div:,.1f} {unit}")

    def v(key):
        return lambda r: num(r.get(key))

    def dbsize(r):
        return (r.get("db_bytes") or 0) + (r.get("wal_bytes") or 0) if r.get("db_bytes") is not None else None

    judge("gateway RSS (mean)", "MiB", 1024, v("rss_kb"), mean, "last ≤ middle × 1.10 + 16 MiB",
          lambda m, l: l <= m * 1.10 + 16 * 1024)
    # the live set: the heap after the full GCs asked for at 1/3, 2/3 and the end of the load
    lives = [(t - t_load0, kb) for t, kb in forced_gcs(out / "gc.log") if t_load0 and t >= t_load0]
    if len(lives) >= 2:
        (t2, l2), (t3, l3) = lives[-2], lives[-1]
        ok = l3 <= l2 * 1.10 + 8 * 1024
        first = f"{lives[0][1] / 1024:,.1f} MiB at {lives[0][0] / 60:.1f} min, " if len(lives) > 2 else ""
        w(f"| live heap: after a forced full GC ({first}then) | {l2 / 1024:,.1f} MiB at {t2 / 60:.1f} min | "
          f"{l3 / 1024:,.1f} MiB at {t3 / 60:.1f} min | {(l3 - l2) / l2 * 100:+.1f} % | "
          f"{(l3 - l2) / 1024 / max(t3 - t2, 1) * 3600:+,.1f} MiB | end ≤ 2/3 × 1.10 + 8 MiB | "
          f"{'PASS' if ok else '**FAIL**'} |")
        if not ok:
            fails.append(f"live heap {l2 / 1024:,.1f} -> {l3 / 1024:,.1f} MiB")
    else:
        w("| live heap: after a forced full GC | | | | | end ≤ 2/3 × 1.10 + 8 MiB | **FAIL** (fewer than 2 forced GCs logged) |")
        fails.append("live heap: fewer than 2 forced full GCs in the GC log")
    judge("heap after young GCs (lowest; information: old garbage accumulates until a full GC)", "MiB", 1024,
          lambda r: num(r.get("heap_after_gc_min_kb")), lambda xs: min(xs) if xs else None,
          "(not judged)", lambda m, l: True)
    judge("threads (most)", "", 1, v("threads"), lambda xs: max(xs) if xs else None,
          "last ≤ middle + 8", lambda m, l: l <= m + 8)
    judge("open file descriptors (most)", "", 1, v("fds"), lambda xs: max(xs) if xs else None,
          "last ≤ middle + 32", lambda m, l: l <= m + 32)
    judge("database file + WAL (largest)", "MiB", MIB, dbsize, lambda xs: max(xs) if xs else None,
          "last ≤ middle × 1.10 + 8 MiB", lambda m, l: l <= m * 1.10 + 8 * MIB)
    slack = rate * float(s.get("sample_s", 10) or 10)
    for table in ("events", "deliveries", "attempts", "idempotency_keys"):
        judge(f"{table} rows (most)", "", 1, v(table), lambda xs: max(xs) if xs else None,
              "last ≤ middle × 1.10 + one sample's traffic", lambda m, l: l <= m * 1.10 + slack)
    judge("backlog gauge (mean)", "", 1, v("backlog"), mean, "last ≤ middle × 1.5 + 1 s of traffic",
          lambda m, l: l <= m * 1.5 + rate)
    judge("delivery lag: accepted − received (mean)", "", 1, v("lag"), mean,
          "last ≤ middle × 1.5 + 1 s of traffic", lambda m, l: l <= m * 1.5 + rate)

    # ack latency over each third, from the histogram (merged, not averaged)
    def third_quantile(group, q):
        if len(group) < 2 or not group[0].get("ack_buckets") or not group[-1].get("ack_buckets"):
            return None
        return quantile_ms(bucket_delta(group[-1]["ack_buckets"], group[0]["ack_buckets"]), q)

    for q, label in ((0.5, "p50"), (0.99, "p99")):
        mq, lq = third_quantile(mid, q), third_quantile(last, q)
        if mq is None or lq is None:
            w(f"| ack latency {label} (gateway histogram) | | | | | last ≤ middle × 1.5 + 2 ms | **FAIL** (no data) |")
            fails.append(f"ack {label}: no data")
            continue
        ok = lq <= mq * 1.5 + 2
        w(f"| ack latency {label} (gateway histogram) | {mq:g} ms | {lq:g} ms | {(lq - mq) / mq * 100:+.0f} % | | "
          f"last ≤ middle × 1.5 + 2 ms | {'PASS' if ok else '**FAIL**'} |")
        if not ok:
            fails.append(f"ack {label}: {mq:g} -> {lq:g} ms")

    # the retention must have run before the middle third, or the plateau is not shown
    purged_mid = num(mid[0].get("purged_events")) if mid else None
    first_purge = next((r["t"] for r in load if (r.get("purged_events") or 0) > 0), None)
    if purged_mid and purged_mid > 0:
        w(f"\nRetention: the first purge was seen at {first_purge / 60:.1f} min, before the middle third: "
          f"the database's plateau is within the judged window.")
    else:
        fails.append("retention had not purged anything by the start of the middle third "
                     "(soak too short for the retention: raise --minutes or lower SOAK_RETENTION)")
        w("\nRetention: **nothing purged before the middle third**: the soak is too short for the "
          "retention settings to show a plateau (FAIL).")

    # ---- the client, the drain, nothing lost
    w("\n## Load, drain, nothing lost\n")
    lat = client.get("latency_us", {})
    svc = client.get("service_us", {})
    w("| figure | value | verdict |")
    w("|---|---|---|")
    achieved = float(client.get("achieved_rps", 0) or 0)
    sent = int(client.get("sent", 0) or 0)
    ok_rate = bool(client) and achieved >= 0.95 * rate
    w(f"| sent / target rate / achieved | {sent:,} / {rate:,.0f}/s / {achieved:,.0f}/s | "
      f"{'PASS' if ok_rate else '**FAIL**'} (≥ 95 % of the target) |")
    if not ok_rate:
        fails.append(f"achieved rate {achieved:,.0f}/s below 95 % of {rate:,.0f}/s")
    statuses = client.get("statuses", {})
    non2xx = int(client.get("non2xx", 0) or 0) + int(client.get("no_answer", 0) or 0)
    w(f"| answers by status | {', '.join(f'{k}: {v:,}' for k, v in sorted(statuses.items()))}; no answer "
      f"{client.get('no_answer', 0):,}; connection errors {client.get('connection_errors', 0):,} | "
      f"{'PASS' if non2xx == 0 else '**FAIL**'} (all 2xx) |")
    if non2xx:
        fails.append(f"{non2xx:,} requests not answered 2xx")
    if lat:
        w(f"| client ack latency over the whole soak, p50 / p90 / p99 / p99.9 / max (from each request's due time) | "
          f"{lat.get('p50', 0) / 1000:.1f} / {lat.get('p90', 0) / 1000:.1f} / {lat.get('p99', 0) / 1000:.1f} / "
          f"{lat.get('p999', 0) / 1000:.1f} / {lat.get('max', 0) / 1000:.1f} ms | (information) |")
        w(f"| client service time p50 / p99 (from the write) | {svc.get('p50', 0) / 1000:.1f} / "
          f"{svc.get('p99', 0) / 1000:.1f} ms | (information) |")
    worst = client.get("worst_per_second_us") or []
    if worst and dur:
        def worst_in(lo, hi):
            xs = [us for sec, us in worst if lo <= sec < hi]
            return max(xs) / 1000 if xs else None
        wm, wl = worst_in(third, 2 * third), worst_in(2 * third, dur + 1)
        if wm is not None and wl is not None:
            w(f"| client: worst request of the middle / last third | {wm:.1f} / {wl:.1f} ms | (information) |")
    dd = bool(drain.get("done"))
    w(f"| drain after the load | {drain.get('reason', 'not run')} in {drain.get('waited_s', '?')} s "
      f"(backlog gauge after: {drain.get('gateway_backlog_after', '?')}) | {'PASS' if dd else '**FAIL**'} |")
    if not dd:
        fails.append(f"the queue did not drain ({drain.get('reason', 'not run')})")
    lc = lost_check(out)
    if "error" in lc:
        w(f"| every 2xx'd event received | {lc['error']} | **FAIL** |")
        fails.append(f"lost check: {lc['error']}")
    else:
        ok = lc["missing"] == 0 and lc["acked"] > 0
        w(f"| every 2xx'd event received (client's send log joined with the receiver's records by key) | "
          f"{lc['acked']:,} acknowledged, {lc['missing']:,} never received"
          f"{' (e.g. keys ' + ', '.join(map(str, lc['missing_examples'])) + ')' if lc['missing'] else ''} | "
          f"{'PASS' if ok else '**FAIL**'} |")
        if not ok:
            fails.append(f"{lc['missing']:,} acknowledged events never received")
        dup = lc["receipts"] - lc["received_keys"]
        w(f"| receipts at the destination / distinct events / received more than once | {lc['receipts']:,} / "
          f"{lc['received_keys']:,} / {dup:,} | (information: delivery is at least once) |")
    stopped = s.get("gateway_stopped", "?")
    alive = stopped == "term" and all(r.get("alive") for r in rows)
    w(f"| gateway alive through the soak | {'yes' if alive else 'no (' + stopped + ')'} | "
      f"{'PASS' if alive else '**FAIL**'} |")
    if not alive:
        fails.append("the gateway did not live through the soak")
    glog = (out / "gateway.log").read_text(errors="replace") if (out / "gateway.log").exists() else ""
    oom = glog.count("OutOfMemoryError")
    errors = sum(1 for line in glog.splitlines() if '"level":"ERROR"' in line or " ERROR " in line)
    warns = sum(1 for line in glog.splitlines() if '"level":"WARN"' in line or " WARN " in line)
    w(f"| gateway log: OutOfMemoryError / ERROR / WARN lines (a purge cut short by the final SIGTERM logs one WARN) | "
      f"{oom} / {errors} / {warns} | "
      f"{'PASS' if oom == 0 else '**FAIL**'} (no OutOfMemoryError) |")
    if oom:
        fails.append("OutOfMemoryError in the gateway's log")
    if rows:
        e = ([r for r in rows if r.get("alive")] or rows)[-1]
        w(f"| GC over the whole run: collections / full / pause total | {e.get('gc_count', 0):,} / "
          f"{e.get('full_gc_count', 0):,} / {e.get('gc_pause_ms_total', 0):,.0f} ms | (information) |")
        w(f"| failing route: retries / dead letters (whole run, gateway counters) | {e.get('retries') or 0:,} / "
          f"{e.get('dead') or 0:,} | (information) |")
        w(f"| rows purged by retention: events / attempts (whole run) | {e.get('purged_events') or 0:,} / "
          f"{e.get('purged_attempts') or 0:,} | (information) |")
        w(f"| RSS peak (VmHWM) | {max((r.get('hwm_kb') or 0) for r in rows) / 1024:,.0f} MiB | (information) |")
        w(f"| slowest row count of the sampler (read-only SQLite) | "
          f"{max((r.get('db_query_ms') or 0) for r in rows):,.0f} ms | (information) |")

    w("\n## Result\n")
    if fails:
        for f_ in fails:
            w(f"- FAIL: {f_}")
        w(f"\n**FAIL** ({len(fails)} check(s)). Outputs in bench/out/soak/ (samples.csv, gateway.log, gc.log).")
    else:
        w("**PASS**: nothing grew without bound in the last third, and every acknowledged event was delivered.")
    w("\nA short soak on a shared machine (other processes' CPU) is noisy; judge a 30-minute run on a quiet one.")
    return 1 if fails else 0


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd, out = sys.argv[1], Path(sys.argv[2])
    if cmd == "sample":
        cmd_sample(out, int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6]), float(sys.argv[7]),
                   float(sys.argv[8]))
    elif cmd == "wait":
        cmd_wait(out, sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
    elif cmd == "brief":
        line = sys.stdin.read().strip()
        print(cmd_brief(line) if line and not line.startswith("t_s") else "no sample yet")
    elif cmd == "report":
        sys.exit(cmd_report(out))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
