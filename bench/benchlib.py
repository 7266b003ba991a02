#!/usr/bin/env python3
"""Helpers for bench/run.sh (Python 3 standard library only).

  benchlib.py sample NAME PID...   one JSON line: CPU ticks and memory of the processes, /proc/stat
  benchlib.py others BEFORE AFTER TIME  % of a core other processes used during a phase
  benchlib.py fsync-probe DIR N     one JSON line: latency of N 4 KiB append+fsync in DIR
  benchlib.py durability DB        one JSON line: what the store holds (after a SIGKILL)
  benchlib.py wait-delivered NAME RECEIVER_PORT GATEWAY_PORTS TIMEOUT_S STALL_S
                                   waits until the receiver has every event the gateway accepted
                                   (GATEWAY_PORTS: one port, or the nodes' ports, comma-separated)
  benchlib.py e2e-analyse OUT_DIR [DB]  one JSON line: the delivery phases, joined (send log,
                                   receiver records, the gateway's store)
  benchlib.py prom-merge FILE...   the sum of several nodes' /metrics (gauges: the largest)
  benchlib.py report OUT_DIR       the markdown report, from the files run.sh left in OUT_DIR (and
                                   OUT_DIR/summary.json, the figures bench/compare.sh reads)
  benchlib.py compare OUT_ROOT     bench/out/compare.md: the last report of each store and node
                                   count side by side

DB is a SQLite file, or pg:DATABASE for PostgreSQL through psql (the server, user and password
come from PGHOST, PGPORT, PGUSER and PGPASSWORD in the environment, as run.sh sets them).
"""
import datetime
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from array import array
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- sample -------------------------------------------------------------------------------------
def proc_sample(pid: int) -> dict:
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15
    utime, stime = int(fields[11]), int(fields[12])
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()

    def kb(key):
        v = status.get(key, "0 kB").split()
        return int(v[0]) if v else 0

    io = {}
    try:  # bytes this process sent to storage and its read/write system calls (needs root or owner)
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                key, _, value = line.partition(":")
                io[key] = int(value.strip() or 0)
    except OSError:
        pass
    switches = 0
    try:  # context switches of all its threads: hand-offs and waits between threads cost these
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split(":")[1])
    except OSError:
        pass
    return {
        "pid": pid,
        "comm": stat[stat.index("(") + 1 : stat.rindex(")")],
        "ticks": utime + stime,
        "write_bytes": io.get("write_bytes"),
        "syscalls": (io["syscr"] + io["syscw"]) if "syscr" in io else None,
        "switches": switches,
        "stime": stime,
        "rss_kb": kb("VmRSS"),
        "hwm_kb": kb("VmHWM"),
        "threads": int(status.get("Threads", "0")),
    }


def machine_cpu() -> list:
    with open("/proc/stat") as f:
        first = f.readline().split()
    return [int(x) for x in first[1:]]  # user nice system idle iowait irq softirq steal ...


def cmd_sample(name: str, pids: list) -> None:
    procs = []
    for p in pids:
        try:
            procs.append(proc_sample(int(p)))
        except FileNotFoundError:
            pass
    print(
        json.dumps(
            {
                "name": name,
                "mono": time.monotonic(),
                "wall": time.time(),
                "clk_tck": CLK_TCK,
                "procs": procs,
                "cpu": machine_cpu(),
            }
        )
    )


# ---- quiet ------------------------------------------------------------------------------------
def busy_over(seconds: float) -> float:
    """Machine CPU busy over the next seconds, as % of one core (all cores together)."""
    a = machine_cpu()
    time.sleep(seconds)
    b = machine_cpu()
    d = [y - x for x, y in zip(a, b)]
    total = sum(d[:8]) or 1
    return 100.0 * (total - d[3] - d[4]) / total * (os.cpu_count() or 1)


def cmd_quiet(name: str, max_wait: float, threshold: float) -> None:
    """Waits (up to max_wait s) until the machine is nearly idle before a measured phase."""
    start = time.monotonic()
    busy = busy_over(1.0)
    said = False
    while busy > threshold and time.monotonic() - start < max_wait:
        if not said:
            print(f"[bench] machine busy ({busy:.0f} % of a core) before {name}: waiting up to "
                  f"{max_wait:.0f} s for it to quieten", file=sys.stderr)
            said = True
        busy = busy_over(2.0)
    waited = time.monotonic() - start
    print(json.dumps({"name": name, "busy_pct": round(busy, 1), "quiet": busy <= threshold,
                      "waited_s": round(waited, 1), "threshold_pct": threshold}))


# ---- fsync probe --------------------------------------------------------------------------------
def cmd_fsync_probe(directory: str, count: int) -> None:
    """Appends 4 KiB and fsyncs, count times, in a scratch file: the disk's floor for a durable ack."""
    path = os.path.join(directory, "fsync-probe.tmp")
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        block = b"x" * 4096
        for _ in range(count):
            os.write(fd, block)
            t = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - t) * 1e6)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()

    def q(p):
        return int(times[min(len(times) - 1, max(0, int(len(times) * p / 100.0 + 0.999999) - 1))])

    print(json.dumps({"count": count, "p50_us": q(50), "p90_us": q(90), "p99_us": q(99),
                      "max_us": int(times[-1]), "mean_us": int(sum(times) / len(times))}))


# ---- the store ----------------------------------------------------------------------------------
class DbError(Exception):
    pass


def _pg_value(x: str):
    if x == "\\N":
        return None
    if re.fullmatch(r"-?\d{1,18}", x):
        return int(x)
    return x


def db_rows(db: str, sql: str) -> list:
    """The rows of one query: db is a SQLite file (opened read-only) or pg:DATABASE (psql)."""
    if db.startswith("pg:"):
        cmd = ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-P", "null=\\N", "-v", "ON_ERROR_STOP=1",
               "-d", db[3:], "-f", "-"]
        try:
            r = subprocess.run(cmd, input=sql + ";\n", capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.SubprocessError) as e:
            raise DbError(str(e))
        if r.returncode != 0:
            raise DbError(r.stderr.strip()[:500])
        return [tuple(_pg_value(x) for x in line.split("\t")) for line in r.stdout.splitlines() if line]
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        raise DbError(str(e))


def pg_durability(db: str) -> dict:
    out = {"store": "postgres", "database": db[3:]}

    def one(sql):
        return db_rows(db, sql)[0][0]

    try:
        out["bytes"] = one(f"SELECT pg_database_size('{db[3:]}')")
        out["events"] = one("SELECT count(*) FROM events")
        out["events_by_status"] = dict(db_rows(db, "SELECT status, count(*) FROM events GROUP BY status"))
        out["deliveries"] = one("SELECT count(*) FROM deliveries")
        out["deliveries_by_state"] = dict(db_rows(db, "SELECT state, count(*) FROM deliveries GROUP BY state"))
        out["idempotency_keys"] = one("SELECT count(*) FROM idempotency_keys")
        out["distinct_keys"] = one("SELECT count(DISTINCT idempotency_key) FROM events")
        # the server was stopped with -m immediate (a crash) and started again: WAL recovery ran
        out["quick_check"] = "ok" if out["events"] == out["distinct_keys"] else "duplicate keys"
        out["crash_recovered"] = True
    except DbError as e:
        out["error"] = str(e)
    return out


# ---- durability ---------------------------------------------------------------------------------
def cmd_durability(db: str) -> None:
    if db.startswith("pg:"):
        print(json.dumps(pg_durability(db)))
        return
    out = {"file": db}
    for suffix in ("", "-wal"):  # as the SIGKILL left them, before SQLite recovers the WAL
        try:
            out["bytes" + suffix.replace("-", "_")] = os.path.getsize(db + suffix)
        except OSError:
            pass
    con = sqlite3.connect(db)
    try:
        cur = con.cursor()
        out["journal_mode"] = cur.execute("PRAGMA journal_mode").fetchone()[0]
        out["events"] = cur.execute("SELECT count(*) FROM events").fetchone()[0]
        out["events_by_status"] = dict(
            cur.execute("SELECT status, count(*) FROM events GROUP BY status").fetchall()
        )
        out["deliveries"] = cur.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        out["deliveries_by_state"] = dict(
            cur.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()
        )
        out["idempotency_keys"] = cur.execute("SELECT count(*) FROM idempotency_keys").fetchone()[0]
        out["distinct_keys"] = cur.execute(
            "SELECT count(DISTINCT idempotency_key) FROM events"
        ).fetchone()[0]
        out["quick_check"] = cur.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        con.close()
    print(json.dumps(out))


# ---- delivery phases ----------------------------------------------------------------------------
def http_get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def gateway_counts(ports: str) -> tuple:
    """(events from clients accepted since start, the backlog gauge) from the gateway's /metrics; with several
    nodes (comma-separated ports) the sum of their accepted events and the largest backlog gauge
    (on a shared database each node's gauge is read again from the database)."""
    accepted, backlog = 0, 0.0
    for port in ports.split(","):
        m = parse_prom_text(http_get(f"http://127.0.0.1:{port}/metrics", 30))
        accepted += prom_outcomes(m, clients_only=True).get("accepted", 0)
        backlog = max(backlog, prom_sum(m, "switchboard_backlog"))
    return accepted, backlog


def cmd_prom_merge(paths: list) -> None:
    merged = {}
    for path in paths:
        for key, v in parse_prom(Path(path)).items():
            n = key[0]
            if n.endswith("_max") or n.startswith("switchboard_backlog") or n.endswith("_bytes") or "_pool_" in n:
                merged[key] = max(merged.get(key, v), v)
            else:
                merged[key] = merged.get(key, 0.0) + v
    for (n, ls), v in sorted(merged.items()):
        lab = ",".join(f'{k}="{val}"' for k, val in ls)
        print(f"{n}{{{lab}}} {v!r}" if lab else f"{n} {v!r}")


def cmd_wait_delivered(name: str, rport: str, gport: str, timeout: float, stall: float) -> None:
    """Polls the receiver until it has every event the gateway accepted (ingest has stopped), or
    timeout, or stall seconds without a new delivery. The gateway's /metrics is read only at the
    start and when the receiver seems to have caught up, so polling costs the gateway nothing."""
    start = time.monotonic()
    began = time.time()
    reason = None
    st = {}
    timeline = []
    try:
        accepted, backlog = gateway_counts(gport)
    except OSError as e:
        print(json.dumps({"name": name, "done": False, "reason": f"gateway unreachable: {e}"}))
        return
    last_unique, last_change = None, start
    next_point, next_say = start, start + 10
    while True:
        now = time.monotonic()
        try:
            st = json.loads(http_get(f"http://127.0.0.1:{rport}/stats"))
        except (OSError, ValueError) as e:
            reason = f"receiver unreachable: {e}"
            break
        u = st["unique"]
        if u != last_unique:
            last_unique, last_change = u, now
        if now >= next_point:
            timeline.append([round(now - start, 1), st["received"], u])
            next_point += 1.0
        if u >= accepted:
            try:
                accepted, backlog = gateway_counts(gport)
            except OSError as e:
                reason = f"gateway unreachable: {e}"
                break
            if u >= accepted:
                reason = "delivered"
                break
        if now - start >= timeout:
            reason = "timeout"
            break
        if now - last_change >= stall:
            reason = "stalled"
            break
        if now >= next_say:
            print(f"[bench] {name}: {u:,} of {accepted:,.0f} accepted events delivered after "
                  f"{now - start:.0f} s", file=sys.stderr)
            next_say += 10
        time.sleep(0.2)
    waited = time.monotonic() - start
    # the gateway writes "delivered" after the receiver's answer: give its gauge a moment
    try:
        deadline = time.monotonic() + (30 if reason == "delivered" else 0)
        accepted, backlog = gateway_counts(gport)
        while backlog > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            accepted, backlog = gateway_counts(gport)
    except OSError:
        pass
    timeline.append([round(waited, 1), st.get("received"), st.get("unique")])
    print(json.dumps({"name": name, "done": reason == "delivered", "reason": reason,
                      "waited_s": round(waited, 2), "began": began, "accepted": accepted,
                      "receiver": st, "gateway_backlog_after": backlog, "timeline": timeline}))


def key_of(interaction_id) -> int:
    """The hex digits after the last '-' (as Receiver.java and RateClient.java read them), or -1."""
    if not interaction_id:
        return -1
    tail = str(interaction_id).rsplit("-", 1)[-1]
    try:
        return int(tail, 16) if 0 < len(tail) <= 15 else -1
    except ValueError:
        return -1


def load_phases(path: Path) -> dict:
    d = {}
    try:
        for line in path.read_text().splitlines():
            k, _, v = line.partition("=")
            try:
                d[k] = int(v)
            except ValueError:
                d[k] = v
    except OSError:
        pass
    return d


def quantiles(sorted_values) -> dict:
    """Nearest-rank percentiles (as RateClient's), same unit as the values."""
    n = len(sorted_values)
    if n == 0:
        return {}

    def q(p):
        rank = int(-(-p * n // 100))  # ceil
        return sorted_values[max(0, min(n - 1, rank - 1))]

    return {"count": n, "min": sorted_values[0], "p50": q(50), "p90": q(90), "p99": q(99),
            "p999": q(99.9), "max": sorted_values[-1], "mean": round(sum(sorted_values) / n, 1)}


def per_second(times_us, t0_us, t1_us=None) -> dict:
    """Deliveries in each whole second from t0 (a last, partial second is left out), and the
    longest gap between two deliveries (µs) in the span."""
    if not times_us:
        return {}
    ts = sorted(times_us)
    end = t1_us if t1_us is not None else ts[-1]
    whole = int((end - t0_us) // 1_000_000)
    counts = [0] * max(whole, 0)
    for t in ts:
        s = int((t - t0_us) // 1_000_000)
        if 0 <= s < whole:
            counts[s] += 1
    gap = max((b - a for a, b in zip(ts, ts[1:])), default=0)
    first_gap = ts[0] - t0_us
    out = {"seconds": whole, "longest_gap_us": max(gap, first_gap if first_gap > 0 else 0)}
    if counts:
        c = sorted(counts)
        out.update({"min": c[0], "median": c[len(c) // 2], "max": c[-1],
                    "zero_seconds": sum(1 for x in counts if x == 0), "series": counts})
    return out



def cmd_e2e_analyse(out_dir: str, store_db: str = None) -> None:
    out = Path(out_dir)
    store_db = store_db or str(out / "bench-e2e.db")
    ph = load_phases(out / "e2e-phases.txt")
    # keys are record numbers: below the request file's record count
    ncap = int(ph.get("records", 0)) or 1 + max((v for k, v in ph.items() if k.endswith("_end")), default=0)
    res = {"phases": ph}

    # -- what the receiver got: first receipt, receipts, and whether the Idempotency-Key changed
    first = array("q", bytes(8 * ncap))
    count = bytearray(ncap)
    idem = array("i", bytes(4 * ncap))
    other_idem = bytearray(ncap)
    unparsed = out_of_range = records = 0
    all_times = []
    try:
        with open(out / "receiver.txt") as f:
            for line in f:
                k, t, h = line.split()
                k, t, h = int(k), int(t), int(h)
                records += 1
                all_times.append(t)
                if k < 0:
                    unparsed += 1
                    continue
                if k >= ncap:
                    out_of_range += 1
                    continue
                c = count[k]
                if c == 0:
                    first[k] = t
                    idem[k] = h
                else:
                    if t < first[k]:
                        first[k] = t
                    if h != idem[k]:
                        other_idem[k] = 1
                if c < 255:
                    count[k] = c + 1
    except OSError as e:
        res["error"] = f"no receiver records: {e}"
    res["receiver"] = {"records": records, "unparsed": unparsed, "out_of_range": out_of_range,
                       "final_stats": load_json(out / "recv-final.json")}

    # -- what the gateway's store holds (after a graceful stop)
    states = ["?"]
    in_db = bytearray(ncap)  # 0: no event; else 1 + index of its delivery's state in `states`
    attempts = bytearray(ncap)
    db = {}
    try:
        def rows(sql):
            return db_rows(store_db, sql)

        multi = no_delivery = bad_keys = 0
        for pk, state, att in rows(
                "SELECT e.partition_key, d.state, d.attempts FROM events e "
                "LEFT JOIN deliveries d ON d.event_id = e.id"):
            k = key_of(pk)
            if not 0 <= k < ncap:
                bad_keys += 1
                continue
            if state is None:
                no_delivery += 1
                state = "(no delivery)"
            if in_db[k]:
                multi += 1
            if state not in states:
                states.append(state)
            in_db[k] = states.index(state) + 1
            attempts[k] = min(255, int(att or 0))
        db["events"] = rows("SELECT count(*) FROM events")[0][0]
        db["deliveries_by_state"] = dict(rows("SELECT state, count(*) FROM deliveries GROUP BY state"))
        db["deliveries_by_attempts"] = {str(a): n for a, n in rows(
            "SELECT attempts, count(*) FROM deliveries GROUP BY attempts")}
        db["attempts_by_outcome"] = dict(rows("SELECT outcome, count(*) FROM attempts GROUP BY outcome"))
        db["failed_attempt_errors"] = [list(r) for r in rows(
            "SELECT coalesce(error, '(none)'), status, count(*) FROM attempts WHERE outcome <> 'delivered' "
            "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 8")]
        db["events_with_several_deliveries"] = multi
        db["events_without_delivery"] = no_delivery
        db["events_with_unreadable_key"] = bad_keys
    except DbError as e:
        db["error"] = str(e)
    res["store"] = db

    def join(name, a, b):
        """Accepted (in the store) vs received, for the events of records [a, b)."""
        r = {"records": [a, b], "accepted": 0, "received": 0, "missing": 0, "missing_sample": [],
             "duplicated_events": 0, "extra_receipts": 0, "duplicates_other_idempotency_key": 0,
             "received_not_in_store": 0, "states": {}, "retried_deliveries": 0}
        times = []
        for k in range(a, min(b, ncap)):
            s, c = in_db[k], count[k]
            if s:
                r["accepted"] += 1
                sn = states[s - 1]
                r["states"][sn] = r["states"].get(sn, 0) + 1
                if attempts[k] > 1:
                    r["retried_deliveries"] += 1
            if c:
                r["received"] += 1
                times.append(first[k])
                if c > 1:
                    r["duplicated_events"] += 1
                    r["extra_receipts"] += c - 1
                    r["duplicates_other_idempotency_key"] += other_idem[k]
                if not s:
                    r["received_not_in_store"] += 1
            elif s:
                r["missing"] += 1
                if len(r["missing_sample"]) < 10:
                    r["missing_sample"].append({"record": k, "state": states[s - 1], "attempts": attempts[k]})
        if times:
            r["first_receipt_us"], r["last_receipt_us"] = min(times), max(times)
        res[name] = r
        return times

    if "warmup_start" in ph:
        join("warmup", ph["warmup_start"], ph["warmup_end"])

    # -- phase 5: end-to-end latency of every counted request that got a 202
    if "half_start" in ph:
        join("half", ph["half_start"], ph["half_end"])
        h = res["half"]
        rows = []
        try:
            with open(out / "e2e-half-send.txt") as f:
                for line in f:
                    k, t, code, due = (int(x) for x in line.split())
                    if t:  # 0: never sent (the client's deadline)
                        rows.append((k, t, code, due))
        except OSError as e:
            h["error"] = f"no send log: {e}"
        t_first = min((t for _, t, _, _ in rows), default=0)
        t_last = max((t for _, t, _, _ in rows), default=0)
        lat, lat_due, by_second = [], [], {}
        acked = missing_acked = recv_not_acked = 0
        statuses, sample_missing = {}, []
        for k, t, code, due in rows:
            statuses[str(code)] = statuses.get(str(code), 0) + 1
            got = 0 <= k < ncap and count[k] > 0
            if code == 202:
                acked += 1
                if got:
                    e2e = first[k] - t
                    lat.append(e2e)
                    lat_due.append(first[k] - due)
                    by_second.setdefault((t - t_first) // 1_000_000, []).append(e2e)
                else:
                    missing_acked += 1
                    if len(sample_missing) < 10:
                        sample_missing.append(k)
            elif got:
                recv_not_acked += 1
        lat.sort()
        lat_due.sort()
        worst = sorted(((sec, max(v)) for sec, v in by_second.items()), key=lambda kv: -kv[1])[:8]
        # did deliveries keep up? the phase's events not yet received when the last request was sent
        behind = sum(1 for k in range(ph["half_start"], min(ph["half_end"], ncap))
                     if in_db[k] and not (count[k] and first[k] <= t_last))
        h.update({"sent": len(rows), "acked_202": acked, "statuses": statuses,
                  "sent_received": sum(1 for k, _, _, _ in rows if 0 <= k < ncap and count[k]),
                  "acked_never_received": missing_acked, "acked_never_received_sample": sample_missing,
                  "received_without_202": recv_not_acked, "latency_us": quantiles(lat),
                  "latency_from_due_us": quantiles(lat_due),
                  "worst_seconds_us": worst, "undelivered_when_sending_stopped": behind,
                  "p50_by_second_us": [sorted(v)[len(v) // 2] for _, v in sorted(by_second.items())],
                  "send_span_s": (t_last - t_first) / 1e6})

    # -- phase 6: deliveries per second while wrk ran at full speed
    if "max_start" in ph:
        times = join("max", ph["max_start"], ph["max_end"])
        m = res["max"]
        t0, t1 = ph["max_t0_us"], ph["max_t1_us"]
        window = [t for t in all_times if t0 <= t <= t1]
        secs = (t1 - t0) / 1e6
        m["window_s"] = secs
        m["receipts_in_window"] = len(window)
        m["deliveries_per_s"] = len(window) / secs if secs > 0 else 0
        m["per_second"] = per_second(window, t0, t1)
        m["delivered_by_window_end"] = sum(1 for t in times if t <= t1)
        m["undelivered_at_window_end"] = m["accepted"] - m["delivered_by_window_end"]
        if times:
            m["all_delivered_s_after_window"] = max(0.0, (max(times) - t1) / 1e6)

    # -- phase 7: the backlog's drain after the resume
    if "backlog_start" in ph:
        times = join("backlog", ph["backlog_start"], ph["backlog_end"])
        bk = res["backlog"]
        tr = ph["backlog_resume_us"]
        bk["received_before_resume"] = sum(1 for t in times if t < tr)
        if times:
            last = max(times)
            drain_s = (last - tr) / 1e6
            bk["first_after_resume_s"] = (min(times) - tr) / 1e6
            bk["drain_s"] = drain_s
            bk["drain_per_s"] = len(times) / drain_s if drain_s > 0 else 0
            bk["per_second"] = per_second(times, tr)
    res["waits"] = {p.stem[5:]: {k: v for k, v in (load_json(p) or {}).items() if k != "timeline"}
                    for p in sorted(out.glob("wait-*.json"))}
    print(json.dumps(res))


# ---- report -------------------------------------------------------------------------------------
def load_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def parse_prom(path: Path) -> dict:
    """{(name, ((label, value), ...)): value}"""
    try:
        return parse_prom_text(path.read_text())
    except OSError:
        return {}


def parse_prom_text(text: str) -> dict:
    metrics = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
        if not m:
            continue
        labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or "")))
        try:
            metrics[(m.group(1), labels)] = float(m.group(4))
        except ValueError:
            pass
    return metrics


def prom_sum(metrics: dict, name: str, **labels) -> float:
    total = 0.0
    for (n, ls), v in metrics.items():
        if n != name:
            continue
        d = dict(ls)
        if all(d.get(k) == val for k, val in labels.items()):
            total += v
    return total


# the gateway's own operational events (docs/operational-events.md): stored and counted as accepted
# like any event, but no client sent them and no benchmark route delivers them
OWN_SOURCE = "switchboard"


def prom_outcomes(metrics: dict, clients_only: bool = False) -> dict:
    out = {}
    for (n, ls), v in metrics.items():
        if n == "switchboard_ingest_requests_total":
            if clients_only and dict(ls).get("source") == OWN_SOURCE:
                continue
            o = dict(ls).get("outcome", "?")
            out[o] = out.get(o, 0) + v
    return out


def delta(after: dict, before: dict) -> dict:
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys}


def ack_histogram_quantile(d: dict, q: float):
    """Upper bound of the bucket holding quantile q, from a delta of the ack timer's buckets."""
    return histogram_quantile(d, q, "switchboard_ingest_ack_seconds_bucket")


def histogram_quantile(d: dict, q: float, name: str):
    """Upper bound of the bucket holding quantile q, from a delta of a timer's buckets."""
    buckets = []
    for (n, ls), v in d.items():
        if n == name:
            le = dict(ls).get("le")
            buckets.append((float("inf") if le == "+Inf" else float(le), v))
    if not buckets:
        return None
    # several sources would each have buckets; sum by le
    merged = {}
    for le, v in buckets:
        merged[le] = merged.get(le, 0) + v
    items = sorted(merged.items())
    total = items[-1][1]
    if total <= 0:
        return None
    for le, cum in items:
        if cum >= q * total:
            return le
    return None


def cpu_between(a: dict, b: dict) -> dict:
    """Process CPU % of one core and machine figures between two samples."""
    secs = b["mono"] - a["mono"]
    ticks_a = {p["pid"]: p["ticks"] for p in a["procs"]}
    used = sum(p["ticks"] - ticks_a.get(p["pid"], 0) for p in b["procs"])
    stime_a = {p["pid"]: p.get("stime", 0) for p in a["procs"]}
    sys_used = sum(p.get("stime", 0) - stime_a.get(p["pid"], 0) for p in b["procs"])
    ca, cb = a["cpu"], b["cpu"]
    dc = [y - x for x, y in zip(ca, cb)]
    total = sum(dc[:8]) or 1
    idle = dc[3] + dc[4]
    steal = dc[7] if len(dc) > 7 else 0
    ncpu = os.cpu_count() or 1
    def delta(key):
        va = {p["pid"]: p.get(key) for p in a["procs"]}
        vals = [p.get(key) - va[p["pid"]] for p in b["procs"]
                if p.get(key) is not None and va.get(p["pid"]) is not None]
        return sum(vals) if vals else None

    return {
        "seconds": secs,
        "write_bytes": delta("write_bytes"),
        "syscalls": delta("syscalls"),
        "switches": delta("switches"),
        "proc_cpu_pct": 100.0 * used / a["clk_tck"] / secs if secs > 0 else 0,
        "proc_sys_pct": 100.0 * sys_used / a["clk_tck"] / secs if secs > 0 else 0,
        "machine_busy_pct": 100.0 * (total - idle) / total * ncpu,  # % of one core, all cores
        "steal_pct": 100.0 * steal / total * ncpu,
    }


def time_file(path: Path):
    try:
        u, s, e = path.read_text().split()[:3]
        u, s, e = float(u), float(s), float(e)
        return {"user": u, "sys": s, "wall": e, "cpu_pct": 100.0 * (u + s) / e if e else 0}
    except (OSError, ValueError):
        return None


def ms(us) -> str:
    if us is None:
        return "–"
    return f"{us / 1000:.2f} ms" if us < 100_000 else f"{us / 1000:.0f} ms"


def mb(kb) -> str:
    return f"{kb / 1024:.0f} MiB"


def first_line(cmd: list) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        text = (r.stdout + r.stderr).strip().splitlines()
        return text[0] if text else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def settings(out: Path) -> dict:
    s = {}
    try:
        for line in (out / "settings.txt").read_text().splitlines():
            if line.startswith(("gateway_java_opts=", "client_java_opts=", "receiver_java_opts=", "java_home=", "jar=")):
                k, _, v = line.partition("=")
                s[k] = v
                continue
            for part in line.split():
                k, _, v = part.partition("=")
                s[k] = v
    except OSError:
        pass
    return s


ROLE = {"java": "gateway", "postgres": "PostgreSQL", "nginx": "nginx LB"}


def cpu_roles(a, b, skip=()):
    """({role: % of one core}, [(pid, % of one core, rss_kb, hwm_kb) per gateway node]) between two
    samples: the gateway nodes (java), PostgreSQL's processes, the load balancer's (nginx). Samples
    of older runs have no process names: then every process is the gateway."""
    if not a or not b:
        return {}, []
    secs = b["mono"] - a["mono"]
    if secs <= 0:
        return {}, []
    ta = {p["pid"]: p["ticks"] for p in a["procs"]}
    roles, nodes = {}, []
    for p in b["procs"]:
        if p["pid"] in skip:
            continue
        used = 100.0 * (p["ticks"] - ta.get(p["pid"], 0)) / a["clk_tck"] / secs
        role = ROLE.get(p.get("comm", "java"), p.get("comm", "?"))
        roles[role] = roles.get(role, 0.0) + used
        if role == "gateway":
            nodes.append((p["pid"], used, p["rss_kb"], p["hwm_kb"]))
    return roles, nodes


def fmt_roles(roles: dict) -> str:
    """'gateway 120 %' or 'gateway 90 % + PostgreSQL 40 % + nginx LB 10 %'."""
    order = ["gateway", "PostgreSQL", "nginx LB"]
    keys = [k for k in order if k in roles] + [k for k in roles if k not in order]
    return " + ".join(f"{k} {roles[k]:.0f} %" for k in keys)


def store_label(st: dict) -> str:
    store = st.get("store", "sqlite")
    nodes = int(st.get("nodes", "1") or 1)
    name = "PostgreSQL" if store == "postgres" else "SQLite"
    return f"{name}, {nodes} node{'s' if nodes != 1 else ''}"


def cmd_report(out_dir: str) -> None:
    out = Path(out_dir)
    st = settings(out)
    summ = {"store": st.get("store", "sqlite"), "nodes": int(st.get("nodes", "1") or 1), "mode": st.get("mode"),
            "label": store_label(st), "dir": out.name}
    is_pg = summ["store"] == "postgres"
    gw_name = "Switchboard" + (f" ({summ['nodes']} nodes behind nginx)" if summ["nodes"] > 1 else "")
    wn = load_json(out / "wrk-nginx.json") or {}
    wg = load_json(out / "wrk-gateway-max.json") or {}
    ww = load_json(out / "wrk-gateway-warmup.json") or {}
    rh = load_json(out / "rate-half.json") or {}
    dur = load_json(out / "durability.json") or {}
    quiet = [q for q in (load_json(p) for p in sorted(out.glob("quiet-*.json"))) if q]

    s = {n: load_json(out / f"sample-{n}.json") for n in (
        "nginx-before", "nginx-after", "gateway-started", "gateway-max-before",
        "gateway-max-after", "gateway-half-before", "gateway-half-after", "gateway-final")}
    cpu_nginx = cpu_between(s["nginx-before"], s["nginx-after"]) if s["nginx-before"] and s["nginx-after"] else None
    cpu_max = cpu_between(s["gateway-max-before"], s["gateway-max-after"]) if s["gateway-max-before"] and s["gateway-max-after"] else None
    cpu_half = cpu_between(s["gateway-half-before"], s["gateway-half-after"]) if s["gateway-half-before"] and s["gateway-half-after"] else None

    m = {n: parse_prom(out / f"metrics-{n}.prom") for n in ("max-before", "max-after", "half-before", "half-after", "final")}
    d_max = delta(m["max-after"], m["max-before"])
    d_half = delta(m["half-after"], m["half-before"])
    out_max = prom_outcomes(d_max)
    out_half = prom_outcomes(d_half)
    out_all = prom_outcomes(m["final"])

    def batch(d):
        c = prom_sum(d, "switchboard_store_group_commit_batch_size_count")
        return prom_sum(d, "switchboard_store_group_commit_batch_size_sum") / c if c else None, c

    batch_max, commits_max = batch(d_max)
    batch_half, commits_half = batch(d_half)
    batch_all, commits_all = batch(m["final"])
    batch_max_seen = prom_sum(m["final"], "switchboard_store_group_commit_batch_size_max")

    t_wrk_nginx = time_file(out / "wrk-nginx.time")
    t_wrk_gw = time_file(out / "wrk-gateway-max.time")
    t_rate = time_file(out / "rate-half.time")

    nginx_rps = wn.get("rps")
    gw_rps = wg.get("rps")
    frac = gw_rps / nginx_rps if nginx_rps and gw_rps else None
    gl = wg.get("latency_us", {})
    hl = rh.get("latency_us", {})
    hs = rh.get("service_us", {})

    # non-2xx as the clients saw them, and as the gateway counted them (outcome != accepted)
    def not_accepted(outcomes):
        return int(sum(v for k, v in outcomes.items() if k != "accepted"))

    accepted_metric = out_all.get("accepted", 0)
    # every 202 a client saw from the gateway, retried phases included, + the one sent by curl
    client_202 = 1
    for path in sorted(out.glob("acks-*.json")):
        j = load_json(path) or {}
        client_202 += int(j.get("statuses", {}).get("202", 0)) + int(j.get("warmup_202", 0))
    attempts = {}
    try:
        for line in (out / "attempts.txt").read_text().splitlines():
            k, _, v = line.partition("=")
            attempts[k] = v
    except OSError:
        pass
    events_in_db = dur.get("events")
    durable_ok = (
        events_in_db is not None
        and events_in_db >= client_202
        and int(events_in_db) == int(accepted_metric)
        and dur.get("quick_check") == "ok"
    )

    def verdict(ok):
        return "**met**" if ok else "**not met**"

    target_frac_ok = frac is not None and frac >= 0.25
    half_p99_ok = hl.get("p99") is not None and hl["p99"] <= 10_000

    def gw_procs(name):
        return [p for p in (s[name] or {}).get("procs", []) if p.get("comm", "java") == "java"]

    hwm_final = max((p["hwm_kb"] for p in gw_procs("gateway-final")), default=0)
    rss_max = max((p["rss_kb"] for p in gw_procs("gateway-max-after")), default=0)
    rss_half = max((p["rss_kb"] for p in gw_procs("gateway-half-after")), default=0)
    rss_start = max((p["rss_kb"] for p in gw_procs("gateway-started")), default=0)
    threads_max = max((p["threads"] for p in gw_procs("gateway-max-after")), default=0)
    roles_max, nodes_max = cpu_roles(s["gateway-max-before"], s["gateway-max-after"])
    roles_half, nodes_half = cpu_roles(s["gateway-half-before"], s["gateway-half-after"])

    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_total = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    java = os.path.join(st.get("java_home", ""), "bin", "java")
    jdk = first_line([java, "-version"])
    fs = first_line(["sh", "-c", f"df -T {out} | tail -n 1 | awk '{{print $2\" on \"$1}}'"])
    debian = Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?"

    L = []
    w = L.append
    # the run's time (settings.txt is written when the phases are over), so a report rebuilt later
    # keeps it
    try:
        now = datetime.datetime.fromtimestamp((out / "settings.txt").stat().st_mtime).astimezone()
    except OSError:
        now = datetime.datetime.now().astimezone()
    w("# Switchboard benchmark: ingest and end-to-end delivery")
    w("")
    w(f"{now:%Y-%m-%d %H:%M %Z} · store **{store_label(st)}** · mode `{st.get('mode', '?')}` · "
      f"{os.cpu_count()} cores ({model}) · generated by `bench/run.sh`")
    w("")
    otlp = load_json(out / "otlp-sink.json")
    if otlp is not None:
        w(f"**Tracing on** (`--tracing`): every span exported over OTLP/HTTP to a local sink that answers "
          f"200; {otlp.get('requests', 0):,} exports, {otlp.get('bytes', 0) / 1048576:,.1f} MiB of spans.")
        w("")
    w("## Result")
    w("")
    w("| | figure | target |")
    w("|---|---:|---|")
    w(f"| nginx answering 202 (this machine's ceiling) | {nginx_rps:,.0f} req/s |  |" if nginx_rps else "| nginx | – | |")
    w(f"| {gw_name}, durable acks | {gw_rps:,.0f} req/s |  |" if gw_rps else "| Switchboard | – | |")
    w(f"| Switchboard as a fraction of nginx | **{frac * 100:.1f} %** | ≥ 25 %: {verdict(target_frac_ok)} |" if frac else "| fraction | – | ≥ 25 % |")
    w(f"| ack latency at max rate p50 / p99 / max | {ms(gl.get('p50'))} / {ms(gl.get('p99'))} / {ms(gl.get('max'))} | |")
    w(f"| ack latency at half rate ({rh.get('target_rps', 0):,.0f} req/s) p50 / p99 / max | "
      f"{ms(hl.get('p50'))} / **{ms(hl.get('p99'))}** / {ms(hl.get('max'))} | p99 ≤ 10 ms: {verdict(half_p99_ok)} |")
    dur_what = ("events in PostgreSQL after SIGKILL of every node, an immediate (crash) stop of PostgreSQL and "
                "its restart" if is_pg else "events in the file after SIGKILL")
    w(f"| every 202 durable ({dur_what}) | {events_in_db if events_in_db is not None else '–':,} events for {client_202:,} 202s seen by clients, {accepted_metric:,.0f} counted by the gateway | {verdict(durable_ok)} |"
      if events_in_db is not None else "| durability | – | |")
    nn = int(wg.get("non2xx", 0)) + int(rh.get("non2xx", 0)) + int(rh.get("no_answer", 0))
    w(f"| non-2xx answers (max + half phases, clients) | {nn:,} | 0 |")
    n202 = not_202(wg) + not_202(rh)
    if n202 != nn:
        w(f"| answers other than 202 (max + half phases, clients; 200 = duplicate) | {n202:,} | 0 |")
    w(f"| non-accepted outcomes (max + half phases, gateway metrics) | {not_accepted(out_max) + not_accepted(out_half):,} | 0 |")
    w(f"| mean group-commit batch: max rate / half rate | {batch_max or 0:.1f} / {batch_half or 0:.1f} events per commit | |")
    if cpu_max and cpu_half:
        if len(roles_max) > 1:
            w(f"| server CPU: max rate / half rate | {fmt_roles(roles_max)} / {fmt_roles(roles_half)} of one core "
              f"(machine: {os.cpu_count() * 100} %) | |")
        else:
            w(f"| gateway CPU: max rate / half rate | {cpu_max['proc_cpu_pct']:.0f} % / {cpu_half['proc_cpu_pct']:.0f} % of one core "
              f"(machine: {os.cpu_count() * 100} %) | |")
    w(f"| gateway RSS{' (largest node)' if summ['nodes'] > 1 else ''}: after max phase / peak (VmHWM) | {mb(rss_max)} / {mb(hwm_final)} | |")
    w("")
    w("Latencies are client-side: wrk's own histogram at max rate (closed loop, "
      f"{st.get('wrk_connections', '?')} connections); at half rate the constant-rate client measures from each "
      "request's scheduled send time, so queueing behind a slow answer counts (no coordinated omission).")
    w("")

    w("## Phases")
    w("")
    w("| phase | load | req/s | p50 | p90 | p99 | p99.9 | max | non-2xx | load generator CPU | server CPU | machine busy (of "
      f"{os.cpu_count() * 100} %) | other processes | steal |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def row(name, load, rps, lat, non2xx, tgen, cpu):
        lat = lat or {}
        w(f"| {name} | {load} | {rps:,.0f} | {ms(lat.get('p50'))} | {ms(lat.get('p90'))} | {ms(lat.get('p99'))} | "
          f"{ms(lat.get('p999'))} | {ms(lat.get('max'))} | {non2xx:,} | "
          f"{pct(tgen, 'cpu_pct')} | {pct(cpu, 'proc_cpu_pct')} | {pct(cpu, 'machine_busy_pct')} | "
          f"{pct(others(cpu, tgen), 'pct')} | {pct(cpu, 'steal_pct', 1)} |")

    wl = f"wrk -t{st.get('wrk_threads', '?')} -c{st.get('wrk_connections', '?')}, {st.get('measure_s', '?')} s"
    row("nginx 202 (ceiling)", wl, nginx_rps or 0, wn.get("latency_us"), int(wn.get("non2xx", 0)), t_wrk_nginx, cpu_nginx)
    row("Switchboard, max rate", wl, gw_rps or 0, gl, int(wg.get("non2xx", 0)), t_wrk_gw, cpu_max)
    row("Switchboard, half rate", f"RateClient {rh.get('target_rps', 0):,.0f}/s, {rh.get('connections', '?')} conns, {st.get('half_s', '?')} s",
        rh.get("achieved_rps", 0), hl, int(rh.get("non2xx", 0)) + int(rh.get("no_answer", 0)), t_rate, cpu_half)
    row("  same, service time only", "first byte sent → answer", rh.get("achieved_rps", 0), hs, 0, None, None)
    w("")
    if len(roles_max) > 1:
        w("Server CPU here is every process that serves the requests: the gateway node(s), PostgreSQL's server processes "
          "and, with several nodes, the nginx load balancer (broken down in the Result table and under Per process).")
        w("")
    w("Server CPU is the gateway's (nginx's master and workers in the nginx row) utime+stime from `/proc/<pid>/stat` over the "
      "phase, as % of one core. Load generator CPU is wrk's or the client's, from `/usr/bin/time`. Machine busy and steal come "
      "from `/proc/stat` over the phase (all processes); \"other processes\" is machine busy minus server and load generator "
      "(kernel work such as the file system's journal lands there too). Figures taken while other processes were busy "
      "understate what this machine can do.")
    w("")

    w("## Gateway detail")
    w("")
    w("| | max rate | half rate | whole run |")
    w("|---|---:|---:|---:|")
    w(f"| outcomes (gateway metrics) | {fmt_outcomes(out_max)} | {fmt_outcomes(out_half)} | {fmt_outcomes(out_all)} |")
    w(f"| group commits | {commits_max:,.0f} | {commits_half:,.0f} | {commits_all:,.0f} |")
    w(f"| mean batch (events per commit) | {batch_max or 0:.2f} | {batch_half or 0:.2f} | {batch_all or 0:.2f} (largest seen recently: {batch_max_seen:.0f}) |")
    w(f"| commits per second | {commits_max / cpu_max['seconds']:,.0f} | {commits_half / cpu_half['seconds']:,.0f} | |"
      if cpu_max and cpu_half else "| commits per second | – | – | |")
    q50m, q99m = ack_histogram_quantile(d_max, 0.5), ack_histogram_quantile(d_max, 0.99)
    q50h, q99h = ack_histogram_quantile(d_half, 0.5), ack_histogram_quantile(d_half, 0.99)

    def le(v):
        return "–" if v is None else ("> 10 s" if v == float("inf") else f"≤ {v * 1000:.1f} ms")

    w(f"| server-side ack time p50 / p99 (histogram bucket) | {le(q50m)} / {le(q99m)} | {le(q50h)} / {le(q99h)} | |")
    if cpu_max and cpu_half:
        srv = "server CPU (" + " + ".join(roles_max) + ")" if len(roles_max) > 1 else "gateway CPU"
        w(f"| {srv}, of which kernel (% of one core) | {cpu_max['proc_cpu_pct']:.0f} %, {cpu_max['proc_sys_pct']:.0f} % | "
          f"{cpu_half['proc_cpu_pct']:.0f} %, {cpu_half['proc_sys_pct']:.0f} % | |")
        if gw_rps and rh.get("achieved_rps"):
            w(f"| {srv} per request | {cpu_max['proc_cpu_pct'] * 10_000 / gw_rps:.0f} µs | "
              f"{cpu_half['proc_cpu_pct'] * 10_000 / rh['achieved_rps']:.0f} µs | |")
            # requests the gateway answered between the samples (its metrics), else rate × time
            n_max = sum(out_max.values()) or gw_rps * cpu_max["seconds"]
            n_half = sum(out_half.values()) or rh["achieved_rps"] * cpu_half["seconds"]

            def per(c, key, n, fmt):
                return "–" if c.get(key) is None or n <= 0 else fmt(c[key] / n)

            kib = lambda v: f"{v / 1024:.1f} KiB"  # noqa: E731
            num = lambda v: f"{v:.1f}"  # noqa: E731
            w(f"| bytes written to storage per request (`/proc/<pid>/io` write_bytes) | "
              f"{per(cpu_max, 'write_bytes', n_max, kib)} | {per(cpu_half, 'write_bytes', n_half, kib)} | |")
            w(f"| read + write system calls per request (`/proc/<pid>/io` syscr + syscw) | "
              f"{per(cpu_max, 'syscalls', n_max, num)} | {per(cpu_half, 'syscalls', n_half, num)} | |")
            w(f"| context switches per request (all threads) | "
              f"{per(cpu_max, 'switches', n_max, num)} | {per(cpu_half, 'switches', n_half, num)} | |")
    pauses = gc_pauses(out / "gc.log")
    if pauses:
        gm = gc_between(pauses, s["gateway-max-before"], s["gateway-max-after"])
        gh = gc_between(pauses, s["gateway-half-before"], s["gateway-half-after"])

        def gcs(g):
            return f"{g['count']} / {g['total_ms']:.0f} ms / {g['max_ms']:.1f} ms" if g else "–"

        w(f"| GC pauses: count / total / longest | {gcs(gm)} | {gcs(gh)} | "
          f"{len(pauses)} / {sum(p[1] for p in pauses):.0f} ms / {max(p[1] for p in pauses):.1f} ms |")
    w(f"| RSS at start → after phase | {mb(rss_start)} → {mb(rss_max)} | → {mb(rss_half)} | peak {mb(hwm_final)} |")
    w(f"| JVM threads | {threads_max} | | |")
    if dur and is_pg:
        w(f"| PostgreSQL after SIGKILL and crash recovery | | | {dur.get('events', 0):,} events "
          f"({fmt_outcomes(dur.get('events_by_status', {}))}), {dur.get('deliveries', 0):,} deliveries, "
          f"{dur.get('idempotency_keys', 0):,} keys, one event per key: {dur.get('quick_check')}, database "
          f"{dur.get('bytes', 0) / 1048576:.0f} MiB{'; error: ' + dur['error'] if dur.get('error') else ''} |")
    elif dur:
        w(f"| SQLite after SIGKILL | | | {dur.get('events', 0):,} events ({fmt_outcomes(dur.get('events_by_status', {}))}), "
          f"{dur.get('deliveries', 0):,} deliveries, {dur.get('idempotency_keys', 0):,} keys, quick_check {dur.get('quick_check')}, "
          f"{dur.get('bytes', 0) / 1048576:.0f} MiB + WAL {dur.get('bytes_wal', 0) / 1048576:.0f} MiB |")
    w("")
    if len(roles_max) > 1 or len(nodes_max) > 1:
        w("**Per process** (CPU as % of one core over the phase; RSS after the max-rate phase, peak VmHWM at the end):")
        w("")
        w("| process | CPU max rate | CPU half rate | RSS | peak |")
        w("|---|---:|---:|---:|---:|")
        hwm = {p["pid"]: p["hwm_kb"] for p in gw_procs("gateway-final")}
        half = {pid: c for pid, c, _, _ in nodes_half}
        for i, (pid, c, rss, _) in enumerate(nodes_max, 1):
            w(f"| gateway node {i} (pid {pid}) | {c:.0f} % | {half.get(pid, 0):.0f} % | {mb(rss)} | {mb(hwm.get(pid, 0))} |")
        for role in ("PostgreSQL", "nginx LB"):
            if role in roles_max:
                w(f"| {role} (all its processes) | {roles_max[role]:.0f} % | {roles_half.get(role, 0):.0f} % | | |")
        w("")
        summ["nodes_cpu_max_pct"] = [round(c) for _, c, _, _ in nodes_max]
        summ["nodes_rss_max_mib"] = [round(r / 1024) for _, _, r, _ in nodes_max]
    summ["roles_max_pct"] = {k: round(v) for k, v in roles_max.items()}
    summ["roles_half_pct"] = {k: round(v) for k, v in roles_half.items()}
    warn = []
    for name, j in (("warm-up", ww), ("max", wg)):
        if j and j.get("wraps"):
            warn.append(f"wrk ran out of fresh requests in the {name} phase (wraps={j['wraps']}): keys repeated, "
                        "raise BENCH_RECORD_RATE")
        if j and any(j.get("errors", {}).values()):
            warn.append(f"wrk socket errors in the {name} phase: {j['errors']}")
    for label, cpu, tgen in (("nginx", cpu_nginx, t_wrk_nginx), ("max-rate", cpu_max, t_wrk_gw), ("half-rate", cpu_half, t_rate)):
        o = others(cpu, tgen)
        if o and o["pct"] > 20:
            warn.append(f"other processes used {o['pct']:.0f} % of a core during the {label} phase: "
                        "the machine was shared, the figures are lower than this machine can do")
    for q in quiet:
        if not q.get("quiet"):
            warn.append(f"the machine was still busy ({q.get('busy_pct')} % of a core) after waiting "
                        f"{q.get('waited_s')} s before the {q.get('name')} phase")
    for name, j in (("warm-up", ww), ("max-rate", wg), ("half-rate", rh)):
        if not_202(j):
            warn.append(f"the {name} phase got answers other than 202: {j.get('statuses')}")
    if wn.get("non2xx"):
        warn.append(f"nginx answered non-2xx: {wn.get('statuses')}")
    if rh and rh.get("max_send_lag_us", 0) > 5000:
        warn.append(f"the constant-rate client sent up to {ms(rh['max_send_lag_us'])} late (the client was short of CPU); "
                    "those waits are inside the half-rate latency")
    if rh and rh.get("achieved_rps") and rh.get("target_rps") and rh["achieved_rps"] < 0.98 * rh["target_rps"]:
        warn.append("the half-rate phase did not reach its target rate")
    levels = {}
    try:
        for line in (out / "gateway.log").read_text(errors="replace").splitlines():
            m_ = re.search(r'"level":"(\w+)"', line)
            if m_:
                levels[m_.group(1)] = levels.get(m_.group(1), 0) + 1
    except OSError:
        pass
    if dur.get("bytes_wal", 0) > 64 * 1048576:
        warn.append(f"the WAL was {dur['bytes_wal'] / 1048576:,.0f} MiB after the run (next to a "
                    f"{dur.get('bytes', 0) / 1048576:,.0f} MiB database): it is not being checkpointed")
    for phase, text in attempts.items():
        warn.append(f"the {phase} phase was measured again because other processes were busy: {text}")
    if levels.get("WARN") or levels.get("ERROR"):
        warn.append(f"the gateway logged {levels.get('WARN', 0)} WARN and {levels.get('ERROR', 0)} ERROR lines "
                    "(bench/out/gateway.log)")
    if warn:
        w("**Warnings**")
        w("")
        for x in warn:
            w(f"- {x}")
        w("")

    worst = sorted(rh.get("worst_per_second_us", []), key=lambda x: -x[1])
    if worst:
        w("Half-rate phase, the longest latency of the requests due in each second, worst seconds first "
          "(second of the phase: latency): " + ", ".join(f"{sec}: {ms(us)}" for sec, us in worst[:8]) + ".")
        w("")

    summ.update({"nginx_rps": nginx_rps, "acks_rps": gw_rps, "ack_max_p50_us": gl.get("p50"),
                 "ack_max_p99_us": gl.get("p99"), "half_rps": rh.get("target_rps"), "ack_half_p50_us": hl.get("p50"),
                 "ack_half_p99_us": hl.get("p99"), "durable_ok": durable_ok, "rss_max_mib": round(rss_max / 1024),
                 "hwm_mib": round(hwm_final / 1024), "contended": [x for x in warn if "other processes" in x or "still busy" in x],
                 "date": f"{now:%Y-%m-%d %H:%M %Z}", "jar": st.get("jar")})
    e2e_section(out, st, w, summ)

    w("## Machine and software")
    w("")
    w(f"- {os.cpu_count()} cores, {model}, {mem_total} RAM; Debian {debian}, Linux {platform.release()}")
    fp = load_json(out / "fsync-probe.json")
    if fp:
        w(f"- store file system: {fs}; append 4 KiB + fsync ({fp['count']} times, before the gateway starts): "
          f"p50 {ms(fp['p50_us'])}, p99 {ms(fp['p99_us'])}, max {ms(fp['max_us'])} (the floor under a durable ack)")
    else:
        w(f"- store file system: {fs}")
    w(f"- gateway: `target/switchboard.jar` built {st.get('jar', '?')} (run from a copy in bench/out)")
    w(f"- JDK: {jdk} (`{st.get('java_home', '?')}`); gateway JVM options: `{st.get('gateway_java_opts', '')}`")
    w(f"- {first_line(['wrk', '-v'])}; {first_line(['nginx', '-v'])}; load generators (wrk, RateClient) at nice "
      f"{st.get('loadgen_nice', '0')}, the servers at 0; RateClient JVM options: `{st.get('client_java_opts', '')}`")
    w(f"- requests: {st.get('record_size', '?')} bytes each on the wire, JSON body {st.get('body_size', '?')} bytes, "
      "HMAC-SHA256 signed, unique interactionId (so every request is a new event); "
      f"{int(st.get('records', 0)):,} pre-signed in `bench/out/requests.bin`")
    w(f"- phases: nginx warm-up {st.get('nginx_warmup_s', '?')} s + {st.get('measure_s', '?')} s; gateway warm-up "
      f"{st.get('warmup_s', '?')} s (discarded) + {st.get('measure_s', '?')} s at max rate + {st.get('half_warmup_s', '?')} s "
      f"(not counted) + {st.get('half_s', '?')} s at half rate")
    if st.get("delivery") == "1":
        w(f"- delivery phases (fresh store, receiver JVM options `{st.get('receiver_java_opts', '')}`, "
          f"one platform thread per connection): "
          f"warm-up {st.get('warmup_s', '?')} s + {st.get('half_warmup_s', '?')} s (not counted) + {st.get('half_s', '?')} s "
          f"at half rate + {st.get('measure_s', '?')} s at full speed + a backlog of {int(st.get('backlog', 0)):,} events "
          f"(drain limit {st.get('drain_timeout_s', '?')} s); after each, a wait of at most {st.get('settle_timeout_s', '?')} s "
          "for the last deliveries")
    w("")
    w("## Commands")
    w("")
    w("```")
    try:
        w((out / "commands.txt").read_text().rstrip())
    except OSError:
        pass
    w("```")
    w("")
    w("Raw outputs: `bench/out/` (wrk-*.txt, rate-half.json, metrics-*.prom, sample-*.json, durability.json, gateway.log; "
      "delivery: gateway-e2e.log, rate-e2e-*.json, e2e-half-send.txt, receiver.txt, wait-*.json, e2e-phases.txt, e2e.json).")
    (out / "summary.json").write_text(json.dumps(summ, indent=1) + "\n")
    print("\n".join(L))


def cpu_of(a, b, pid) -> float:
    """% of one core the process pid used between two samples, or None."""
    if not a or not b:
        return None
    secs = b["mono"] - a["mono"]
    ta = {p["pid"]: p["ticks"] for p in a["procs"]}
    for p in b["procs"]:
        if p["pid"] == pid and pid in ta and secs > 0:
            return 100.0 * (p["ticks"] - ta[pid]) / a["clk_tck"] / secs
    return None


def delivery_outcomes(metrics: dict) -> dict:
    out = {}
    for (n, ls), v in metrics.items():
        if n == "switchboard_deliveries_total":
            o = dict(ls).get("outcome", "?")
            out[o] = out.get(o, 0) + v
    return out


def log_levels(path: Path, top: int = 5) -> tuple:
    """({level: count}, [(count, level, message with digits/ids folded)]) of a JSON-lines log."""
    levels, messages = {}, {}
    try:
        for line in path.read_text(errors="replace").splitlines():
            m_ = re.search(r'"level":"(\w+)"', line)
            if not m_:
                continue
            lv = m_.group(1)
            levels[lv] = levels.get(lv, 0) + 1
            if lv in ("WARN", "ERROR"):
                msg = re.search(r'"formattedMessage":"((?:[^"\\]|\\.)*)"', line)
                text = msg.group(1) if msg else line
                text = re.sub(r"[0-9a-f]{8,}|\d+", "#", text)[:160]
                key = (lv, text)
                messages[key] = messages.get(key, 0) + 1
    except OSError:
        pass
    worst = sorted(((n, lv, t) for (lv, t), n in messages.items()), reverse=True)[:top]
    return levels, worst


def e2e_section(out: Path, st: dict, w, summ: dict = None) -> None:
    summ = {} if summ is None else summ
    e = load_json(out / "e2e.json")
    if not e:
        if st.get("delivery") == "1":
            w("## End-to-end delivery")
            w("")
            w("**Not measured**: the delivery phases did not finish (see the run's output and bench/out/).")
            w("")
        return
    ph = e.get("phases", {})
    gpid, rpid = ph.get("gateway_pid"), ph.get("receiver_pid")
    gpids = [int(x) for x in str(ph.get("gateway_pids") or gpid or "").split(",") if x]
    h, mx, bk = e.get("half", {}), e.get("max", {}), e.get("backlog", {})
    waits = e.get("waits", {})
    s = {n: load_json(out / f"sample-{n}.json") for n in (
        "e2e-started", "e2e-half-before", "e2e-half-after", "e2e-max-before", "e2e-max-after",
        "e2e-backlog-before", "e2e-backlog-ingested", "e2e-backlog-drained", "e2e-final")}
    m = {n: parse_prom(out / f"metrics-{n}.prom") for n in (
        "e2e-half-before", "e2e-half-after", "e2e-half-settled", "e2e-max-before", "e2e-max-after",
        "e2e-max-settled", "e2e-backlog-before", "e2e-backlog-ingested", "e2e-backlog-drained", "e2e-final")}
    rh = load_json(out / "rate-e2e-half.json") or {}
    wm = load_json(out / "wrk-e2e-max.json") or {}
    rb = load_json(out / "rate-e2e-backlog.json") or {}
    t_half, t_max, t_bk = (time_file(out / f) for f in ("rate-e2e-half.time", "wrk-e2e-max.time", "rate-e2e-backlog.time"))
    hl = h.get("latency_us", {})

    def verdict(ok):
        return "**met**" if ok else "**not met**"

    phases_run = [(n, e[n]) for n in ("warmup", "half", "max", "backlog") if n in e]
    missing = sum(p.get("missing", 0) for _, p in phases_run)
    dups = sum(p.get("extra_receipts", 0) for _, p in phases_run)
    w("## End-to-end delivery")
    w("")
    where = "the database `bench_e2e`" if st.get("store") == "postgres" else "`bench/out/…/bench-e2e.db`"
    w(f"The gateway runs again on a fresh store ({where}) with one route from the source to an `http` "
      f"destination, `receiver`: `Receiver.java` on 127.0.0.1:{st.get('receiver_port', '?')}, answering 200 with an empty "
      f"body at once (concurrency {st.get('e2e_concurrency', '?')}, no rate limit, the event's payload as the body). "
      "End-to-end latency runs from the moment the client writes a request to the moment the receiver has read the "
      "delivery carrying that event (both from the machine's clock, µs). "
      + ("Before each phase every event accepted so far had been received."
         if all(wt.get("done") for wt in waits.values()) else
         "**Not every phase started with all earlier events received** (see the warnings)."))
    w("")
    w("| | figure | target |")
    w("|---|---:|---|")
    if hl:
        hd = h.get("latency_from_due_us", {})
        al, asv = rh.get("latency_us", {}), rh.get("service_us", {})
        rate = rh.get("target_rps") or 0
        behind = h.get("undelivered_when_sending_stopped", 0)
        w(f"| end-to-end latency at half rate ({rate:,.0f} events/s, the half-rate phase's rate) "
          f"p50 / p99 / max | {ms(hl.get('p50'))} / **{ms(hl.get('p99'))}** / {ms(hl.get('max'))} | |")
        w(f"| … from each request's scheduled time instead (adds any wait in the client for a free connection) | "
          f"{ms(hd.get('p50'))} / {ms(hd.get('p99'))} / {ms(hd.get('max'))} | |")
        w(f"| ack latency in the same phase, from the scheduled time / from the write, p50 / p99 | "
          f"{ms(al.get('p50'))} / {ms(al.get('p99'))}; {ms(asv.get('p50'))} / {ms(asv.get('p99'))} | |")
        w(f"| did deliveries keep up? events of the phase not yet received when the last request was sent | "
          f"{behind:,} (≈ {behind / rate if rate else 0:.1f} s of load) | |")
    if h:
        w(f"| half rate, counted requests: sent / 202 / received / 202 never received / duplicate receipts (whole phase) | "
          f"{h.get('sent', 0):,} / {h.get('acked_202', 0):,} / {h.get('sent_received', 0):,} / "
          f"**{h.get('acked_never_received', 0):,}** / {h.get('extra_receipts', 0):,} | "
          f"0 never received: {verdict(h.get('acked_never_received', 1) == 0)} |")
    if mx:
        w(f"| full speed (wrk, {mx.get('window_s', 0):.0f} s): ingest acks/s / deliveries received/s, same window | "
          f"{wm.get('rps', 0):,.0f} / **{mx.get('deliveries_per_s', 0):,.0f}** | |")
    if bk:
        drained = waits.get("e2e-backlog", {}).get("done")
        ingest_rps = rb.get("achieved_rps") or 0
        drain = bk.get("drain_per_s") or 0
        ratio = drain / ingest_rps if ingest_rps else None
        w(f"| backlog: events ingested with the destination paused, at | {bk.get('accepted', 0):,} at "
          f"{ingest_rps:,.0f}/s ({rb.get('duration_s', 0):.1f} s) | |")
        if drained:
            w(f"| backlog: drain after resume (until the last one was received) | {drain:,.0f} deliveries/s, "
              f"{bk.get('drain_s', 0):,.1f} s | |")
        else:
            wt = waits.get("e2e-backlog", {})
            w(f"| backlog: drain after resume | **not drained**: {bk.get('received', 0):,} of {bk.get('accepted', 0):,} "
              f"received when the wait ended ({wt.get('reason')}, after {wt.get('waited_s', 0):.0f} s; limit "
              f"{st.get('drain_timeout_s', '?')} s), {drain:,.0f}/s until then | |")
        if ratio is not None:
            w(f"| drain rate / ingest rate | **{ratio * 100:.0f} %** | ≥ 80 %: {verdict(ratio >= 0.8 and drained)} |")
    elif st.get("admin_ok") == "0":
        w("| backlog drain | **not measured**: the admin API did not answer 204 to resume (bench/out/admin-resume.txt) | ≥ 80 % |")
    w(f"| accepted events never received, all phases (warm-up included) | **{missing:,}** | 0: {verdict(missing == 0)} |")
    w(f"| duplicate receipts, all phases | {dups:,} | 0 |")
    summ.update({"e2e_half_p50_us": hl.get("p50"), "e2e_half_p99_us": hl.get("p99"),
                 "e2e_half_rps": rh.get("target_rps"), "e2e_full_ingest_rps": wm.get("rps"),
                 "e2e_full_deliveries_per_s": mx.get("deliveries_per_s"),
                 "backlog_events": bk.get("accepted"), "backlog_ingest_rps": rb.get("achieved_rps"),
                 "drain_per_s": bk.get("drain_per_s"), "drained": bool(waits.get("e2e-backlog", {}).get("done")),
                 "lost": missing, "duplicates": dups})
    w("")

    # -- phases
    w("| phase | load | ingest req/s | deliveries/s | e2e p50 | p90 | p99 | p99.9 | max | gateway CPU | receiver CPU "
      "| load generator CPU | machine busy | other processes |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def cpu_row(a, b, tgen):
        r = cpu_of(s[a], s[b], rpid)
        roles, _ = cpu_roles(s[a], s[b], skip=(rpid,))
        g = roles.get("gateway") if roles else None
        extra = sum(v for k, v in roles.items() if k != "gateway")
        c = cpu_between(s[a], s[b]) if s[a] and s[b] else None
        other = None
        if c and g is not None and r is not None:
            other = max(0.0, c["machine_busy_pct"] - g - extra - r - (tgen["cpu_pct"] if tgen else 0))
        f = (lambda v: "–" if v is None else f"{v:.0f} %")
        gcell = fmt_roles(roles) if len(roles) > 1 else f(g)
        return f"{gcell} | {f(r)} | {f(tgen['cpu_pct'] if tgen else None)} | {f(c['machine_busy_pct'] if c else None)} | {f(other)}", other

    others = {}
    if h:
        cpu_cells, others["half-rate"] = cpu_row("e2e-half-before", "e2e-half-after", t_half)
        span = (h.get("last_receipt_us", 0) - h.get("first_receipt_us", 0)) / 1e6
        w(f"| half rate | RateClient {rh.get('target_rps', 0):,.0f}/s, {rh.get('connections', '?')} conns, "
          f"{st.get('half_s', '?')} s | {rh.get('achieved_rps', 0):,.0f} | "
          f"{h.get('received', 0) / span if span > 0 else 0:,.0f} | "
          f"{ms(hl.get('p50'))} | {ms(hl.get('p90'))} | {ms(hl.get('p99'))} | {ms(hl.get('p999'))} | {ms(hl.get('max'))} | {cpu_cells} |")
    if mx:
        cpu_cells, others["full-speed"] = cpu_row("e2e-max-before", "e2e-max-after", t_max)
        w(f"| full speed | wrk -t{st.get('wrk_threads', '?')} -c{st.get('wrk_connections', '?')}, {st.get('measure_s', '?')} s "
          f"| {wm.get('rps', 0):,.0f} | {mx.get('deliveries_per_s', 0):,.0f} | | | | | | {cpu_cells} |")
    if bk:
        cpu_cells, others["backlog ingest"] = cpu_row("e2e-backlog-before", "e2e-backlog-ingested", t_bk)
        w(f"| backlog ingest (paused) | RateClient --burst {rb.get('sent', 0):,}, {rb.get('connections', '?')} conns "
          f"| {rb.get('achieved_rps', 0):,.0f} | {bk.get('received_before_resume', 0):,} received | | | | | | {cpu_cells} |")
        cpu_cells, others["drain"] = cpu_row("e2e-backlog-ingested", "e2e-backlog-drained", None)
        w(f"| backlog drain | none | | {bk.get('drain_per_s', 0):,.0f} | | | | | | {cpu_cells} |")
    w("")
    w("Deliveries/s: at half rate, the phase's events over the span from their first to their last receipt; at full "
      "speed, every receipt while wrk ran, over wrk's run; for the drain, the backlog's events from the resume to the last "
      "receipt. CPU as in the ingest phases (gateway and receiver separately; \"other processes\" is the rest).")
    w("")

    # -- detail
    w("| | warm-up | half rate | full speed | backlog |")
    w("|---|---:|---:|---:|---:|")

    def cells(key, fmt=lambda v: f"{v:,}"):
        return " | ".join("–" if n not in e or key not in e[n] else fmt(e[n][key]) for n in ("warmup", "half", "max", "backlog"))

    w(f"| events accepted (in the store) | {cells('accepted')} |")
    w(f"| received by the receiver (distinct events) | {cells('received')} |")
    w(f"| accepted, never received | {cells('missing')} |")
    w(f"| events received more than once / extra receipts | "
      + " | ".join("–" if n not in e else f"{e[n].get('duplicated_events', 0):,} / {e[n].get('extra_receipts', 0):,}"
                   for n in ("warmup", "half", "max", "backlog")) + " |")
    w(f"| … of which with another Idempotency-Key | {cells('duplicates_other_idempotency_key')} |")
    w(f"| received, not in the store | {cells('received_not_in_store')} |")
    w(f"| deliveries attempted more than once | {cells('retried_deliveries')} |")
    w(f"| delivery states in the store at the end | "
      + " | ".join("–" if n not in e else fmt_outcomes(e[n].get("states", {})) for n in ("warmup", "half", "max", "backlog")) + " |")
    w(f"| wait for the last delivery after the load stopped | "
      + " | ".join("–" if f"e2e-{k}" not in waits else
                   f"{waits[f'e2e-{k}'].get('waited_s', 0):.1f} s ({waits[f'e2e-{k}'].get('reason')})"
                   for k in ("warmup", "half", "max", "backlog")) + " |")

    def outcomes_between(a, b):
        d = delta(m[b], m[a]) if m[a] and m[b] else {}
        return fmt_outcomes(delivery_outcomes(d))

    w(f"| gateway delivery outcomes (metrics) | | {outcomes_between('e2e-half-before', 'e2e-half-settled')} | "
      f"{outcomes_between('e2e-max-before', 'e2e-max-settled')} | {outcomes_between('e2e-backlog-before', 'e2e-backlog-drained')} |")
    dh = delta(m["e2e-half-settled"], m["e2e-half-before"]) if m["e2e-half-before"] else {}
    dm = delta(m["e2e-max-settled"], m["e2e-max-before"]) if m["e2e-max-before"] else {}
    name = "switchboard_delivery_end_to_end_seconds_bucket"

    def le(v):
        return "–" if v is None else ("> 1 h" if v == float("inf") else f"≤ {v * 1000:.1f} ms")

    w(f"| gateway's own receipt → delivered p50 / p99 (histogram bucket) | | "
      f"{le(histogram_quantile(dh, 0.5, name))} / {le(histogram_quantile(dh, 0.99, name))} | "
      f"{le(histogram_quantile(dm, 0.5, name))} / {le(histogram_quantile(dm, 0.99, name))} | |")
    pauses = gc_pauses(out / "gc-e2e.log")
    if pauses:
        def gcs(a, b):
            g = gc_between(pauses, s[a], s[b])
            return f"{g['count']} / {g['total_ms']:.0f} ms / {g['max_ms']:.1f} ms" if g else "–"
        w(f"| gateway GC pauses: count / total / longest | | {gcs('e2e-half-before', 'e2e-half-after')} | "
          f"{gcs('e2e-max-before', 'e2e-max-after')} | {gcs('e2e-backlog-ingested', 'e2e-backlog-drained')} (drain) |")
    w("")
    ps = mx.get("per_second", {})
    if ps.get("seconds"):
        w(f"Full speed, deliveries received per second of wrk's run: min {ps['min']:,}, median {ps['median']:,}, "
          f"max {ps['max']:,}; {ps['zero_seconds']} second(s) without any; longest gap between two deliveries "
          f"{ms(ps['longest_gap_us'])}. At the end of the run {mx.get('undelivered_at_window_end', 0):,} of its "
          f"{mx.get('accepted', 0):,} events were still undelivered; the last was received "
          f"{mx.get('all_delivered_s_after_window', 0):.1f} s after wrk stopped.")
        w("")
    pb = bk.get("per_second", {})
    if pb.get("seconds"):
        w(f"Backlog drain, deliveries per second from the resume: min {pb['min']:,}, median {pb['median']:,}, max "
          f"{pb['max']:,}; {pb['zero_seconds']} second(s) without any; first delivery {bk.get('first_after_resume_s', 0) * 1000:.0f} ms "
          f"after the resume; longest gap {ms(pb['longest_gap_us'])}. Received while paused: "
          f"{bk.get('received_before_resume', 0):,}.")
        w("")
    if hl:
        worst = h.get("worst_seconds_us", [])
        trend = h.get("p50_by_second_us", [])
        w(f"Half rate, end-to-end latency: min {ms(hl.get('min'))}, mean {ms(hl.get('mean'))}; the median of the requests "
          "sent in each second, in order: " + ", ".join(ms(x) for x in trend[:40]) + "; the longest per second of "
          "sending, worst first (second: latency): " + ", ".join(f"{sec}: {ms(us)}" for sec, us in worst) + ".")
        w("")
    db = e.get("store", {})
    if db and "error" not in db:
        w(f"Store after the graceful stop: {db.get('events', 0):,} events; deliveries {fmt_outcomes(db.get('deliveries_by_state', {}))}; "
          f"by attempts {', '.join(f'{k}: {v:,}' for k, v in db.get('deliveries_by_attempts', {}).items())}; "
          f"attempts {fmt_outcomes(db.get('attempts_by_outcome', {}))}"
          + (f"; failed attempts: " + "; ".join(f"{n:,} × {err} (status {code})" for err, code, n in db.get("failed_attempt_errors", []))
             if db.get("failed_attempt_errors") else "")
          + (f"; {db['events_with_several_deliveries']:,} events with several deliveries" if db.get("events_with_several_deliveries") else "")
          + (f"; {db['events_without_delivery']:,} events without a delivery" if db.get("events_without_delivery") else "")
          + ".")
        w("")

    # -- warnings
    warn = []
    for n, p in phases_run:
        if p.get("missing"):
            warn.append(f"{p['missing']:,} accepted event(s) of the {n} phase were never received, e.g. "
                        + ", ".join(f"record {x['record']} ({x['state']}, {x['attempts']} attempts)" for x in p.get("missing_sample", [])[:5]))
        if p.get("extra_receipts"):
            warn.append(f"the {n} phase's events were received {p['extra_receipts']:,} time(s) more than once "
                        f"({p['duplicated_events']:,} events, {p.get('duplicates_other_idempotency_key', 0):,} with another Idempotency-Key)")
        if p.get("received_not_in_store"):
            warn.append(f"{p['received_not_in_store']:,} event(s) of the {n} phase were received but are not in the store")
        if p.get("retried_deliveries"):
            warn.append(f"{p['retried_deliveries']:,} delivery(ies) of the {n} phase needed more than one attempt")
    if h.get("acked_never_received"):
        warn.append(f"{h['acked_never_received']:,} half-rate event(s) acknowledged with 202 never reached the receiver, "
                    f"e.g. records {h.get('acked_never_received_sample', [])[:5]}")
    if hl and hl.get("p50", 0) > 1_000_000:
        rate = rh.get("target_rps") or 1
        warn.append(f"deliveries did not keep up with the half rate: the median end-to-end latency is {ms(hl['p50'])}, "
                    f"{h.get('undelivered_when_sending_stopped', 0):,} events were not yet delivered when the last request was "
                    f"sent (≈ {h.get('undelivered_when_sending_stopped', 0) / rate:.1f} s of load): the latency figures "
                    "measure a growing backlog, not a steady state")
    if rh.get("latency_us", {}).get("p99", 0) > 1_000_000:
        warn.append(f"with deliveries running, the gateway did not ingest the half rate in time either: ack latency p99 "
                    f"{ms(rh['latency_us']['p99'])} from the scheduled time (the ingest-only half-rate phase is above)")
    if h.get("received_without_202"):
        warn.append(f"{h['received_without_202']:,} half-rate event(s) were delivered although the client got no 202")
    for k, wt in waits.items():
        if not wt.get("done"):
            warn.append(f"after the {k} phase the receiver did not get every accepted event ({wt.get('reason')} after "
                        f"{wt.get('waited_s', 0):.0f} s: {wt.get('receiver', {}).get('unique', 0):,} of {wt.get('accepted', 0):,.0f})")
        elif wt.get("gateway_backlog_after"):
            warn.append(f"after the {k} phase every event was received but the gateway still counted "
                        f"{wt['gateway_backlog_after']:,.0f} unfinished deliveries")
    if ps.get("zero_seconds") or pb.get("zero_seconds"):
        warn.append(f"deliveries stalled: {ps.get('zero_seconds', 0)} second(s) at full speed and "
                    f"{pb.get('zero_seconds', 0)} during the drain without a single delivery")
    if rh and rh.get("achieved_rps") and rh.get("target_rps") and rh["achieved_rps"] < 0.98 * rh["target_rps"]:
        warn.append("the end-to-end half-rate phase did not reach its target rate")
    for name_, j in (("half-rate", rh), ("backlog", rb)):
        if not_202(j):
            warn.append(f"the end-to-end {name_} phase got answers other than 202: {j.get('statuses')}")
    if wm and not_202(wm):
        warn.append(f"the end-to-end full-speed phase got answers other than 202: {wm.get('statuses')}")
    if wm.get("wraps"):
        warn.append("wrk ran out of fresh requests in the end-to-end full-speed phase: raise BENCH_RECORD_RATE")
    if rb and rb.get("sent") and rb.get("answered", 0) < rb["sent"]:
        warn.append(f"the backlog client got {rb.get('answered', 0):,} answers for {rb['sent']:,} requests "
                    f"(limit {st.get('backlog_ingest_timeout_s', '?')} s)")
    for k, o in others.items():
        if o is not None and o > 20:
            warn.append(f"other processes used {o:.0f} % of a core during the end-to-end {k} phase: the machine was shared")
    rs = (e.get("receiver", {}) or {}).get("final_stats") or {}
    if rs.get("unparsed") or rs.get("out_of_range") or rs.get("dropped") or rs.get("no_idempotency_key"):
        warn.append(f"receiver: {rs.get('unparsed', 0)} deliveries without a readable interactionId, {rs.get('out_of_range', 0)} "
                    f"out of range, {rs.get('dropped', 0)} not kept (capacity), {rs.get('no_idempotency_key', 0)} without an "
                    "Idempotency-Key header")
    if ph.get("gateway_stopped_by_term") == 0:
        warn.append("the gateway did not stop within 60 s of SIGTERM (killed)")
    levels, worst_msgs = log_levels(out / "gateway-e2e.log")
    if levels.get("WARN") or levels.get("ERROR"):
        warn.append(f"the gateway logged {levels.get('WARN', 0)} WARN and {levels.get('ERROR', 0)} ERROR lines "
                    "(bench/out/gateway-e2e.log), most often: "
                    + "; ".join(f"{n} × {lv} “{t}”" for n, lv, t in worst_msgs))
    if warn:
        w("**Warnings (delivery)**")
        w("")
        for x in warn:
            w(f"- {x}")
        w("")


def gc_pauses(path: Path) -> list:
    """[(epoch seconds, pause ms, text)] from a -Xlog:gc:file=...:timemillis log."""
    pauses = []
    try:
        for line in path.read_text(errors="replace").splitlines():
            m = re.match(r"^\[(\d+)ms\].*?(Pause .*?)\s+(\d+\.\d+)ms\s*$", line)
            if m:
                pauses.append((int(m.group(1)) / 1000.0, float(m.group(3)), m.group(2)))
    except OSError:
        pass
    return pauses


def gc_between(pauses: list, a: dict, b: dict) -> dict:
    if not a or not b:
        return {}
    inside = [p for p in pauses if a["wall"] <= p[0] <= b["wall"]]
    return {
        "count": len(inside),
        "total_ms": sum(p[1] for p in inside),
        "max_ms": max((p[1] for p in inside), default=0.0),
        "worst": max(inside, key=lambda p: p[1])[2] if inside else "",
    }


def not_202(j) -> int:
    return int(sum(v for k, v in (j or {}).get("statuses", {}).items() if k != "202"))


def others(cpu, tgen):
    """CPU used by processes other than the server and the load generator, % of one core."""
    if not cpu or not tgen:
        return None
    return {"pct": max(0.0, cpu["machine_busy_pct"] - cpu["proc_cpu_pct"] - tgen["cpu_pct"])}


def pct(d, key, digits=0) -> str:
    return "–" if not d else f"{d[key]:.{digits}f} %"


def fmt_outcomes(d: dict) -> str:
    if not d:
        return "–"
    return ", ".join(f"{k} {int(v):,}" for k, v in sorted(d.items(), key=lambda kv: -kv[1]) if v)


# ---- compare ------------------------------------------------------------------------------------
def cmd_compare(out_root: str) -> None:
    """bench/out/compare.md: the last run of each store and node count (OUT_ROOT/<store>-<nodes>/
    summary.json) side by side, with the issue's target: one node on PostgreSQL within 20 % of
    SQLite, row by row."""
    root = Path(out_root)
    runs = {}
    for path in sorted(root.glob("*/summary.json")):
        j = load_json(path)
        if j:
            runs[path.parent.name] = j

    def order(name):
        store, _, nodes = name.partition("-")
        return (store != "sqlite", int(nodes) if nodes.isdigit() else 99, name)

    names = sorted(runs, key=order)
    L = []
    w = L.append
    w("# Switchboard benchmark: SQLite and PostgreSQL side by side")
    w("")
    if not names:
        w("No runs yet: `bench/run.sh`, `bench/run.sh --store postgres`, `bench/run.sh --store postgres --nodes 3`.")
        print("\n".join(L))
        (root / "compare.md").write_text("\n".join(L) + "\n")
        return
    base, pg1 = runs.get("sqlite-1"), runs.get("postgres-1")
    w("Each column is the last `bench/run.sh` of that store and node count (its full report: "
      "`bench/out/<store>-<nodes>/report.md`). Target (issue 7): one node on PostgreSQL within 20 % of the SQLite "
      "figures: throughput at least 80 % of SQLite's, latency at most 120 % of SQLite's; nothing lost or duplicated.")
    w("")

    def fnum(v, unit=""):
        return "–" if v is None else f"{v:,.0f}{unit}"

    def fms(v):
        return "–" if v is None else ms(v)

    rows = [
        ("nginx answering 202 (the machine's ceiling), req/s", "nginx_rps", fnum, None),
        ("ingest: durable acks/s at max rate (wrk)", "acks_rps", fnum, "higher"),
        ("ingest: ack latency at max rate p50", "ack_max_p50_us", fms, "lower"),
        ("ingest: ack latency at max rate p99", "ack_max_p99_us", fms, "lower"),
        ("half rate (half of that run's max), req/s", "half_rps", fnum, None),
        ("ingest: ack latency at half rate p50", "ack_half_p50_us", fms, "lower"),
        ("ingest: ack latency at half rate p99", "ack_half_p99_us", fms, "lower"),
        ("every 202 durable after SIGKILL", "durable_ok", lambda v: "–" if v is None else ("yes" if v else "**no**"), "true"),
        ("end-to-end latency at half rate p50", "e2e_half_p50_us", fms, "lower"),
        ("end-to-end latency at half rate p99", "e2e_half_p99_us", fms, "lower"),
        ("full speed: ingest acks/s with deliveries running", "e2e_full_ingest_rps", fnum, "higher"),
        ("full speed: deliveries received/s, same window", "e2e_full_deliveries_per_s", fnum, "higher"),
        ("backlog: events ingested with the destination paused", "backlog_events", fnum, None),
        ("backlog: ingest rate, events/s", "backlog_ingest_rps", fnum, "higher"),
        ("backlog: drain rate after resume, deliveries/s", "drain_per_s", fnum, "higher"),
        ("accepted events never received (all delivery phases)", "lost", fnum, "zero"),
        ("duplicate receipts (all delivery phases)", "duplicates", fnum, "zero"),
        ("gateway RSS after max phase (largest node)", "rss_max_mib", lambda v: fnum(v, " MiB"), None),
    ]
    w("| | " + " | ".join(runs[n]["label"] for n in names) + " | PostgreSQL 1 node vs SQLite: within 20 %? |")
    w("|---|" + "---:|" * len(names) + "---|")
    met = failed = 0
    for label, key, fmt, better in rows:
        cells = [fmt(runs[n].get(key)) for n in names]
        verdict = ""
        a = base.get(key) if base else None
        b = pg1.get(key) if pg1 else None
        if better in ("higher", "lower") and a and b is not None:
            ratio = b / a
            ok = ratio >= 0.8 if better == "higher" else ratio <= 1.2
            verdict = f"{'met' if ok else '**not met**'} ({(ratio - 1) * 100:+.0f} %)"
        elif better == "zero" and b is not None:
            ok = b == 0
            verdict = "met" if ok else "**not met**"
        elif better == "true" and b is not None:
            ok = bool(b)
            verdict = "met" if ok else "**not met**"
        else:
            ok = None
        if ok is True:
            met += 1
        elif ok is False:
            failed += 1
        w(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")
    w("")
    if base and pg1:
        w(f"Target rows met: {met} of {met + failed}.")
        w("")
    cpu = []
    for n in names:
        r = runs[n]
        roles = r.get("roles_max_pct") or {}
        line = f"- {r['label']}: server CPU at max rate: {fmt_roles(roles) or '–'}"
        if r.get("nodes_cpu_max_pct"):
            line += (" (per node: " + ", ".join(f"{c} %" for c in r["nodes_cpu_max_pct"]) + "; RSS " +
                     ", ".join(f"{m} MiB" for m in r.get("nodes_rss_max_mib", [])) + ")")
        cpu.append(line)
    w("CPU is % of one core; the machine has " + str(os.cpu_count()) + " cores, shared with the load generator "
      "(and, in the delivery phases, the receiver):")
    w("")
    L.extend(cpu)
    w("")
    w("Runs:")
    w("")
    for n in names:
        r = runs[n]
        cont = r.get("contended") or []
        w(f"- `{n}`: {r.get('date', '?')}, mode `{r.get('mode', '?')}`, jar {r.get('jar', '?')}"
          + (f"; **contended**: {len(cont)} warning(s) about other processes, e.g. \"{cont[0]}\"" if cont else "; machine quiet"))
    w("")
    w("The half-rate rows run at half of each run's own max rate, so a slower store is measured at a lower rate. "
      "With several nodes on one machine the nodes, PostgreSQL, nginx, the load generator and the receiver share the "
      "same cores: the 3-node column shows the cost of the cluster path on one machine, not the capacity of three. "
      "Ten-second phases (`--quick`) vary by about ±15 % from run to run.")
    text = "\n".join(L) + "\n"
    (root / "compare.md").write_text(text)
    print(text, end="")


def cmd_otlp_sink(port: int, stats_file: str) -> None:
    """bench/run.sh --tracing: an OTLP/HTTP receiver that answers every export 200 with an empty
    ExportTraceServiceResponse and counts requests and bytes (GET /stats; also written to stats_file
    on SIGTERM), so that tracing's cost is the gateway's, not a collector's."""
    import http.server
    import json as _json
    import signal
    import threading

    counts = {"requests": 0, "bytes": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(n)
            with lock:
                counts["requests"] += 1
                counts["bytes"] += n
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            body = _json.dumps(counts).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)

    def stop(*_):
        Path(stats_file).write_text(_json.dumps(counts) + "\n")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    Path(stats_file).write_text(_json.dumps(counts) + "\n")


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd = sys.argv[1]
    if cmd == "sample":
        cmd_sample(sys.argv[2], sys.argv[3:])
    elif cmd == "quiet":
        cmd_quiet(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "others":
        a, b = load_json(Path(sys.argv[2])), load_json(Path(sys.argv[3]))
        o = others(cpu_between(a, b), time_file(Path(sys.argv[4]))) if a and b else None
        print(int(o["pct"]) if o else 0)
    elif cmd == "sum202":
        # 202s the clients saw, over every gateway run (retries included)
        total = 0
        for path in sys.argv[2:]:
            j = load_json(Path(path)) or {}
            total += int(j.get("statuses", {}).get("202", 0)) + int(j.get("warmup_202", 0))
        print(total)
    elif cmd == "fsync-probe":
        cmd_fsync_probe(sys.argv[2], int(sys.argv[3]))
    elif cmd == "durability":
        cmd_durability(sys.argv[2])
    elif cmd == "wait-delivered":
        cmd_wait_delivered(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
    elif cmd == "e2e-analyse":
        cmd_e2e_analyse(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif cmd == "prom-merge":
        cmd_prom_merge(sys.argv[2:])
    elif cmd == "compare":
        cmd_compare(sys.argv[2])
    elif cmd == "report":
        cmd_report(sys.argv[2])
    elif cmd == "otlp-sink":
        cmd_otlp_sink(int(sys.argv[2]), sys.argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
