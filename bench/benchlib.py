#!/usr/bin/env python3
"""Helpers for bench/run.sh (Python 3 standard library only).

  benchlib.py sample NAME PID...   one JSON line: CPU ticks and memory of the processes, /proc/stat
  benchlib.py others BEFORE AFTER TIME  % of a core other processes used during a phase
  benchlib.py fsync-probe DIR N     one JSON line: latency of N 4 KiB append+fsync in DIR
  benchlib.py durability DB        one JSON line: what the SQLite file holds (after a SIGKILL)
  benchlib.py report OUT_DIR       the markdown report, from the files run.sh left in OUT_DIR
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

    return {
        "pid": pid,
        "ticks": utime + stime,
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


# ---- durability ---------------------------------------------------------------------------------
def cmd_durability(db: str) -> None:
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


# ---- report -------------------------------------------------------------------------------------
def load_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def parse_prom(path: Path) -> dict:
    """{(name, ((label, value), ...)): value}"""
    metrics = {}
    try:
        text = path.read_text()
    except OSError:
        return metrics
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


def prom_outcomes(metrics: dict) -> dict:
    out = {}
    for (n, ls), v in metrics.items():
        if n == "switchboard_ingest_requests_total":
            o = dict(ls).get("outcome", "?")
            out[o] = out.get(o, 0) + v
    return out


def delta(after: dict, before: dict) -> dict:
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys}


def ack_histogram_quantile(d: dict, q: float):
    """Upper bound of the bucket holding quantile q, from a delta of the ack timer's buckets."""
    buckets = []
    for (n, ls), v in d.items():
        if n == "switchboard_ingest_ack_seconds_bucket":
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
    return {
        "seconds": secs,
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
            if line.startswith(("gateway_java_opts=", "client_java_opts=", "java_home=", "jar=")):
                k, _, v = line.partition("=")
                s[k] = v
                continue
            for part in line.split():
                k, _, v = part.partition("=")
                s[k] = v
    except OSError:
        pass
    return s


def cmd_report(out_dir: str) -> None:
    out = Path(out_dir)
    st = settings(out)
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

    hwm_final = max((p["hwm_kb"] for p in (s["gateway-final"] or {}).get("procs", [])), default=0)
    rss_max = max((p["rss_kb"] for p in (s["gateway-max-after"] or {}).get("procs", [])), default=0)
    rss_half = max((p["rss_kb"] for p in (s["gateway-half-after"] or {}).get("procs", [])), default=0)
    rss_start = max((p["rss_kb"] for p in (s["gateway-started"] or {}).get("procs", [])), default=0)
    threads_max = max((p["threads"] for p in (s["gateway-max-after"] or {}).get("procs", [])), default=0)

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
    now = datetime.datetime.now().astimezone()
    w("# Switchboard ingest benchmark")
    w("")
    w(f"{now:%Y-%m-%d %H:%M %Z} · mode `{st.get('mode', '?')}` · "
      f"{os.cpu_count()} cores ({model}) · generated by `bench/run.sh`")
    w("")
    w("## Result")
    w("")
    w("| | figure | target |")
    w("|---|---:|---|")
    w(f"| nginx answering 202 (this machine's ceiling) | {nginx_rps:,.0f} req/s |  |" if nginx_rps else "| nginx | – | |")
    w(f"| Switchboard, durable acks | {gw_rps:,.0f} req/s |  |" if gw_rps else "| Switchboard | – | |")
    w(f"| Switchboard as a fraction of nginx | **{frac * 100:.1f} %** | ≥ 25 %: {verdict(target_frac_ok)} |" if frac else "| fraction | – | ≥ 25 % |")
    w(f"| ack latency at max rate p50 / p99 / max | {ms(gl.get('p50'))} / {ms(gl.get('p99'))} / {ms(gl.get('max'))} | |")
    w(f"| ack latency at half rate ({rh.get('target_rps', 0):,.0f} req/s) p50 / p99 / max | "
      f"{ms(hl.get('p50'))} / **{ms(hl.get('p99'))}** / {ms(hl.get('max'))} | p99 ≤ 10 ms: {verdict(half_p99_ok)} |")
    w(f"| every 202 durable (events in the file after SIGKILL) | {events_in_db if events_in_db is not None else '–':,} events for {client_202:,} 202s seen by clients, {accepted_metric:,.0f} counted by the gateway | {verdict(durable_ok)} |"
      if events_in_db is not None else "| durability | – | |")
    nn = int(wg.get("non2xx", 0)) + int(rh.get("non2xx", 0)) + int(rh.get("no_answer", 0))
    w(f"| non-2xx answers (max + half phases, clients) | {nn:,} | 0 |")
    n202 = not_202(wg) + not_202(rh)
    if n202 != nn:
        w(f"| answers other than 202 (max + half phases, clients; 200 = duplicate) | {n202:,} | 0 |")
    w(f"| non-accepted outcomes (max + half phases, gateway metrics) | {not_accepted(out_max) + not_accepted(out_half):,} | 0 |")
    w(f"| mean group-commit batch: max rate / half rate | {batch_max or 0:.1f} / {batch_half or 0:.1f} events per commit | |")
    if cpu_max and cpu_half:
        w(f"| gateway CPU: max rate / half rate | {cpu_max['proc_cpu_pct']:.0f} % / {cpu_half['proc_cpu_pct']:.0f} % of one core "
          f"(machine: {os.cpu_count() * 100} %) | |")
    w(f"| gateway RSS: after max phase / peak (VmHWM) | {mb(rss_max)} / {mb(hwm_final)} | |")
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
        w(f"| gateway CPU, of which kernel (% of one core) | {cpu_max['proc_cpu_pct']:.0f} %, {cpu_max['proc_sys_pct']:.0f} % | "
          f"{cpu_half['proc_cpu_pct']:.0f} %, {cpu_half['proc_sys_pct']:.0f} % | |")
        if gw_rps and rh.get("achieved_rps"):
            w(f"| gateway CPU per request | {cpu_max['proc_cpu_pct'] * 10_000 / gw_rps:.0f} µs | "
              f"{cpu_half['proc_cpu_pct'] * 10_000 / rh['achieved_rps']:.0f} µs | |")
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
    if dur:
        w(f"| SQLite after SIGKILL | | | {dur.get('events', 0):,} events ({fmt_outcomes(dur.get('events_by_status', {}))}), "
          f"{dur.get('deliveries', 0):,} deliveries, {dur.get('idempotency_keys', 0):,} keys, quick_check {dur.get('quick_check')}, "
          f"{dur.get('bytes', 0) / 1048576:.0f} MiB + WAL {dur.get('bytes_wal', 0) / 1048576:.0f} MiB |")
    w("")
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
    w("Raw outputs: `bench/out/` (wrk-*.txt, rate-half.json, metrics-*.prom, sample-*.json, durability.json, gateway.log).")
    print("\n".join(L))


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
    elif cmd == "report":
        cmd_report(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
