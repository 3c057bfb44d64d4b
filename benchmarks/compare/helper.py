#!/usr/bin/env python3
"""Helpers for benchmarks/compare.sh (standard library only).

  helper.py free-ports N [--prefer PORT]   print N free loopback TCP ports
  helper.py prepare ...                    per-release JSON files for nginx, RESP for Redis, wrk paths
  helper.py change-latency ...             file change -> new revision served / SDK notified / SDK cache
  helper.py reload-loop ...                swap the served db every second until told to stop
  helper.py time-json FILE...              python json.loads time (read + parse) per file, seconds
  helper.py rate --fraction F FILE         F × the rps of a load result (release-chan-bench or wrk), an integer
  helper.py report ...                     the table of ratios (terminal, markdown, JSON)
"""

import argparse
import csv
import gzip
import http.client
import json
import os
import pty
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time


# ----------------------------------------------------------------------------------------------------
# free-ports


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def cmd_free_ports(args):
    ports = []
    if args.prefer and port_is_free(args.prefer):
        ports.append(args.prefer)
    sockets = []
    while len(ports) < args.count:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        port = s.getsockname()[1]
        if port not in ports:
            ports.append(port)
    for s in sockets:
        s.close()
    print(" ".join(str(p) for p in ports))


# ----------------------------------------------------------------------------------------------------
# prepare


def compact(release):
    return json.dumps(release, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def http_get(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    return response.status, dict((k.lower(), v) for k, v in response.getheaders()), body


def resp_command(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        if isinstance(part, str):
            part = part.encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def cmd_prepare(args):
    """Writes, for every release of the db: the bare release JSON the HTTP API returns, as a static
    file at the API's path (nginx), as a Redis SET under `container:channel` and under `k:<12 digits>`
    (the same value once more, for redis-benchmark's __rand_int__ keys), and the path for wrk."""
    with open(args.db, "rb") as f:
        db = json.load(f)
    releases = db["releases"]
    keys = [(r["container"], r["channel"]) for r in releases]
    values = [compact(r) for r in releases]

    # The values must be the very bytes the server answers: check a sample; fetch all if one differs.
    source = "python compact encoding, byte-identical to the server on a sample of %d"
    conn = http.client.HTTPConnection("127.0.0.1", args.http_port, timeout=30)
    sample = random.Random(7).sample(range(len(releases)), min(args.sample, len(releases)))
    mismatch = None
    for i in sample:
        status, _, body = http_get(conn, "/v1/releases/%s/%s" % keys[i])
        if status != 200 or body != values[i]:
            mismatch = (keys[i], status, body[:200], values[i][:200])
            break
    if mismatch:
        print("prepare: python encoding differs from the server for %s/%s (status %d): fetching every release"
              % (mismatch[0][0], mismatch[0][1], mismatch[1]), file=sys.stderr)
        for i, key in enumerate(keys):
            status, _, body = http_get(conn, "/v1/releases/%s/%s" % key)
            if status != 200:
                sys.exit("prepare: GET /v1/releases/%s/%s answered %d" % (key[0], key[1], status))
            values[i] = body
        source = "fetched from the server (%d requests)" % len(keys)
    else:
        source = source % len(sample)

    www = args.www
    with open(args.paths, "w") as paths, open(args.resp, "wb") as resp:
        for i, ((container, channel), value) in enumerate(zip(keys, values)):
            directory = os.path.join(www, "v1", "releases", container)
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, channel), "wb") as f:
                f.write(value)
            paths.write("/v1/releases/%s/%s\n" % (container, channel))
            resp.write(resp_command("SET", "%s:%s" % (container, channel), value))
            resp.write(resp_command("SET", "k:%012d" % i, value))

    # The whole db, gzip-compressed: the very bytes the server sends for Accept-Encoding: gzip.
    status, headers, body = http_get(conn, "/v1/releases", {"Accept-Encoding": "gzip"})
    if status != 200 or headers.get("content-encoding") != "gzip":
        sys.exit("prepare: GET /v1/releases with gzip answered %d, encoding %s" % (status, headers.get("content-encoding")))
    plain = gzip.decompress(body)
    with open(os.path.join(www, "db.json"), "wb") as f:
        f.write(plain)
    with open(os.path.join(www, "db.json.gz"), "wb") as f:
        f.write(body)
    conn.close()

    sizes = [len(v) for v in values]
    summary = {
        "releases": len(releases),
        "value_bytes_mean": round(statistics.mean(sizes), 1),
        "value_bytes_min": min(sizes),
        "value_bytes_max": max(sizes),
        "values_source": source,
        "db_json_bytes": len(plain),
        "db_gzip_bytes": len(body),
    }
    with open(args.summary, "w") as f:
        json.dump(summary, f)
    print("prepared %d releases (value %d..%d bytes, mean %.0f; %s); full db %d bytes, gzip %d bytes"
          % (len(releases), min(sizes), max(sizes), statistics.mean(sizes), source, len(plain), len(body)))


# ----------------------------------------------------------------------------------------------------
# change-latency


class LineReader:
    """Runs a command on a pseudo-terminal (so stdio is line-buffered) and timestamps every line."""

    def __init__(self, name, argv):
        self.name = name
        self.lines = []  # (monotonic time, text)
        self.cond = threading.Condition()
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.master = master
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                chunk = b""
            now = time.monotonic()
            if not chunk:
                with self.cond:
                    self.cond.notify_all()
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                with self.cond:
                    self.lines.append((now, line.decode("utf-8", "replace").rstrip("\r")))
                    self.cond.notify_all()

    def wait_for(self, predicate, start_index, timeout):
        """First line at or after start_index matching predicate: (index, time, text) or None."""
        deadline = time.monotonic() + timeout
        index = start_index
        with self.cond:
            while True:
                while index < len(self.lines):
                    t, text = self.lines[index]
                    if predicate(text):
                        return index, t, text
                    index += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self.thread.is_alive()):
                    return None
                self.cond.wait(min(remaining, 0.05))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def health_revision(conn):
    conn.request("GET", "/v1/health")
    response = conn.getresponse()
    body = response.read()
    return json.loads(body)["revision"]


def cmd_change_latency(args):
    """Each trial renames the other db file over the served path (atomic, like GitOps tools) and
    times: GET /v1/health shows the new revision (polled every --poll-ms over one keep-alive
    connection); `release-chan watch` prints it (SDK change notification); the SDK example in cached
    mode prints it (announced only once its in-memory copy of the db holds the new revision)."""
    directory = os.path.dirname(os.path.abspath(args.db))
    with open(args.files[0], "rb") as f:
        contents = [f.read()]
    with open(args.files[1], "rb") as f:
        contents.append(f.read())
    with open(args.db, "rb") as f:
        current = f.read()
    next_index = 1 if current == contents[0] else 0

    conn = http.client.HTTPConnection("127.0.0.1", args.http_port, timeout=10)
    watch = LineReader("watch", args.watch_cmd.split("\x1f")) if args.watch_cmd else None
    if watch and not watch.wait_for(lambda s: s.startswith("serving "), 0, 30):
        print("change-latency: `release-chan watch` did not connect; lines: %r" % watch.lines[-5:], file=sys.stderr)
        watch.stop()
        watch = None
    example = None
    example_note = None
    example_argv = args.example_cmd.split("\x1f") if args.example_cmd else None

    def start_example():
        reader = LineReader("example", example_argv)
        if reader.wait_for(lambda s: " on " in s and ":" in s, 0, 30):
            time.sleep(0.2)  # let it subscribe to revision changes after its first lookup
            return reader
        reader.stop()
        return None

    served, notified, cached = [], [], []
    watch_index = len(watch.lines) if watch else 0
    example_index = 0
    for trial in range(args.trials):
        if example_argv and (example is None or not example.alive()):
            if example is not None:
                example.stop()
            example = start_example()
            example_index = len(example.lines) if example else 0
            if example is None:
                example_note = "SDK example did not start or connect"
                example_argv = None
        old = health_revision(conn)
        tmp = os.path.join(directory, ".compare-change.tmp")
        with open(tmp, "wb") as f:
            f.write(contents[next_index])
            f.flush()
            os.fsync(f.fileno())
        next_index = 1 - next_index
        t0 = time.monotonic()
        os.rename(tmp, args.db)
        new = old
        deadline = t0 + args.timeout
        while new == old and time.monotonic() < deadline:
            time.sleep(args.poll_ms / 1000.0)
            new = health_revision(conn)
        if new == old:
            print("change-latency: trial %d: revision did not change within %.0f s" % (trial + 1, args.timeout), file=sys.stderr)
            served.append(None)
            continue
        served.append((time.monotonic() - t0) * 1000)
        if watch:
            hit = watch.wait_for(lambda s, new=new: (" revision %s " % new) in s, watch_index, args.timeout)
            if hit:
                watch_index = hit[0] + 1
                notified.append((hit[1] - t0) * 1000)
            else:
                notified.append(None)
        if example:
            hit = example.wait_for(lambda s, new=new: s.startswith("revision %s" % new), example_index, args.timeout)
            if hit:
                example_index = hit[0] + 1
                cached.append((hit[1] - t0) * 1000)
            else:
                cached.append(None)
        time.sleep(args.pause)

    for reader in (watch, example):
        if reader:
            reader.stop()
    conn.close()
    result = {"trials": args.trials, "poll_ms": args.poll_ms, "served_ms": served, "watch_ms": notified,
              "cached_ms": cached, "cached_note": example_note}
    with open(args.out, "w") as f:
        json.dump(result, f)
    print("change latency ms: served %s; watch %s; cached %s" % (fmt_list(served), fmt_list(notified), fmt_list(cached) if cached else example_note or "skipped"))


# ----------------------------------------------------------------------------------------------------
# reload-loop


def cmd_reload_loop(args):
    """Every --interval seconds (on a fixed schedule) until --stop exists: the other db file takes the
    served path (a hard link renamed over it: atomic, like GitOps tools, and without copying), then
    POST /v1/reload over one keep-alive connection (the file watch may get there first: either way
    one new revision per swap). One line per swap in --swaps, one per answer in --answers.

    The harness runs in one process that sleeps between swaps, so that what the lookups measure is
    the server's reload: a `cp` of the 15 MB file and a `curl` started each second had cost the
    lookups on 2 busy cores about as much p99 as the reload itself (benchmarks/README.md)."""
    directory = os.path.dirname(os.path.abspath(args.db))
    link = os.path.join(directory, ".reload-link.tmp")
    conn = http.client.HTTPConnection("127.0.0.1", args.http_port, timeout=10)
    due = time.monotonic() + args.interval
    swap = 0
    with open(args.swaps, "a") as swaps, open(args.answers, "a") as answers:
        while True:
            time.sleep(max(0.0, due - time.monotonic()))
            due += args.interval
            if os.path.exists(args.stop):
                break
            source = args.files[swap % 2]
            swap += 1
            try:
                os.unlink(link)
            except FileNotFoundError:
                pass
            try:
                os.link(source, link)
            except OSError:
                shutil.copyfile(source, link)  # another file system: a copy, as before
            os.rename(link, args.db)
            swaps.write("%.6f\n" % time.time())
            swaps.flush()
            try:
                conn.request("POST", "/v1/reload")
                response = conn.getresponse()
                answers.write(response.read().decode("utf-8", "replace") + "\n")
            except (OSError, http.client.HTTPException) as error:
                answers.write("failed: %s\n" % error)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.http_port, timeout=10)
            answers.flush()
            # A reload slower than the interval delays the next swap; it does not bunch the missed ones.
            while due <= time.monotonic():
                due += args.interval
    conn.close()


def fmt_list(values):
    return "[" + ", ".join("-" if v is None else "%.1f" % v for v in values) + "]"


# ----------------------------------------------------------------------------------------------------
# time-json


def cmd_time_json(args):
    for path in args.files:
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            data = f.read()
        json.loads(data)
        print("%.6f" % (time.perf_counter() - t0))


# ----------------------------------------------------------------------------------------------------
# report


def cmd_rate(args):
    """Prints nothing when the run left no result, so that the caller can skip what depends on it."""
    result = load_json(args.file) or last_json_line(args.file)
    value = rps(result) if result else None
    if value:
        print(max(1, int(value * args.fraction)))


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def last_json_line(path):
    """wrk prints its text report, then our Lua done() prints one JSON line."""
    try:
        with open(path) as f:
            lines = [line for line in f if line.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def wrk_with_cpu(path):
    """A wrk result with the CPU per response of the server and of wrk while it ran, in µs (compare.sh's
    wrk_run writes NAME.cpu.json from /proc/PID/stat and NAME.times from bash's `times`)."""
    result = last_json_line(path)
    if not result or not result.get("requests"):
        return result
    base = path[:-len(".json")]
    cpu = load_json(base + ".cpu.json") or {}
    if cpu.get("clock_ticks_per_second"):
        result["server_cpu_us"] = cpu["server_ticks"] / cpu["clock_ticks_per_second"] * 1e6 / result["requests"]
    try:
        with open(base + ".times") as f:
            children = f.read().splitlines()[1].split()
        # "1m2.345s 0m0.678s": user, then system.
        seconds = sum(int(t.split("m")[0]) * 60 + float(t.split("m")[1].rstrip("s")) for t in children)
        result["client_cpu_us"] = seconds * 1e6 / result["requests"]
    except (OSError, IndexError, ValueError):
        pass
    return result


def redis_csv(path):
    try:
        with open(path) as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    if not rows:
        return None
    row = rows[-1]
    try:
        return {"rps": float(row["rps"]), "latency_us": {"p99": float(row["p99_latency_ms"]) * 1000,
                                                          "p50": float(row["p50_latency_ms"]) * 1000}}
    except (KeyError, ValueError):
        return None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rounds(raw, pattern, count, loader, field):
    values = []
    errors = 0
    for r in range(1, count + 1):
        result = loader(os.path.join(raw, pattern % r))
        if result is None:
            continue
        value = field(result)
        if value is not None:
            values.append(value)
        errors += error_count(result)
    return median(values), errors, len(values)


def round_ratios(raw, ours_pattern, ours_loader, ref_pattern, ref_loader, field, count):
    """Ratio of each round's pair, measured back to back: their spread shows the run-to-run noise."""
    ratios = []
    for r in range(1, count + 1):
        ours = ours_loader(os.path.join(raw, ours_pattern % r))
        ref = ref_loader(os.path.join(raw, ref_pattern % r))
        o = field(ours) if ours is not None else None
        f = field(ref) if ref is not None else None
        if o is not None and f:
            ratios.append(o / f)
    return ratios


def fmt_ratios(ratios):
    if len(ratios) < 2:
        return ""
    return "rounds " + ", ".join("%.2f×" % v for v in ratios)


def error_count(result):
    e = result.get("errors", 0)
    if isinstance(e, dict):
        return sum(e.get(k, 0) for k in ("connect", "read", "write", "status", "timeout"))
    return e or 0


def rps(result):
    return result.get("rps")


def p99(result):
    return (result.get("latency_us") or {}).get("p99")


def server_cpu(result):
    return result.get("server_cpu_us")


def client_cpu(result):
    return result.get("client_cpu_us")


def fmt_cpu(v):
    return "n/a" if v is None else "%.0f µs" % v


def fmt_rps(v):
    if v is None:
        return "n/a"
    if v >= 10000:
        return "%.1fk rps" % (v / 1000)
    return "%.0f rps" % v


def fmt_us(v):
    return "n/a" if v is None else "%.2f ms" % (v / 1000)


def fmt_s(v):
    return "n/a" if v is None else "%.3f s" % v


def fmt_ms(v):
    return "n/a" if v is None else "%.0f ms" % v


def fmt_bytes(v):
    return "n/a" if v is None else "%.1f MB" % (v / 1e6)


def cmd_report(args):
    meta = load_json(args.meta) or {}
    raw = args.raw
    n = int(meta.get("rounds", 1))
    rows = []

    def add(figure, ours, ref, fmt, goal_op, goal, ours_errors=0, ref_errors=0, ref_fmt=None, note="", ratios=()):
        ratio = ours / ref if ours is not None and ref not in (None, 0) else None
        if ratio is None:
            verdict = "n/a"
        elif goal_op == ">=":
            verdict = "PASS" if ratio >= goal else "short"
        else:
            verdict = "PASS" if ratio <= goal else "short"
        notes = [n for n in (note, fmt_ratios(ratios)) if n]
        if ours_errors:
            notes.append("ours: %d errors" % ours_errors)
        if ref_errors:
            notes.append("reference: %d errors" % ref_errors)
        rows.append({
            "figure": figure,
            "ours": ours, "reference": ref, "ratio": ratio,
            "goal": "%s %.2f×" % ("≥" if goal_op == ">=" else "≤", goal), "goal_op": goal_op, "goal_ratio": goal,
            "result": verdict,
            "ours_text": fmt(ours), "reference_text": (ref_fmt or fmt)(ref), "round_ratios": list(ratios),
            "note": "; ".join(notes),
        })

    def pair(ours_pattern, ours_loader, ref_pattern, ref_loader, field):
        return round_ratios(raw, ours_pattern, ours_loader, ref_pattern, ref_loader, field, n)

    def open_loop_p99(figure, ours_pattern, ref_pattern):
        """Both servers at the same offered load: the p99s compare servers, not how much load each got."""
        o_p99, o_err, o_count = rounds(raw, ours_pattern, n, load_json, p99)
        if not o_count:
            return
        r_p99, r_err, _ = rounds(raw, ref_pattern, n, load_json, p99)
        rate, _, _ = rounds(raw, ours_pattern, n, load_json, lambda result: result.get("rate"))
        add(figure, o_p99, r_p99, fmt_us, "<=", 1.0, o_err, r_err, note=fmt_rps(rate),
            ratios=pair(ours_pattern, load_json, ref_pattern, load_json, p99))

    share = float(meta.get("open_loop_share", 0))

    tcp_ours = {}
    for depth in (1, 16):
        o_rps, o_err, _ = rounds(raw, "tcp-p%d-ours-r%%d.json" % depth, n, load_json, rps)
        o_p99, _, _ = rounds(raw, "tcp-p%d-ours-r%%d.json" % depth, n, load_json, p99)
        tcp_ours[depth] = (o_rps, o_err, o_p99)
        r_rps, _, _ = rounds(raw, "tcp-p%d-redis-r%%d.csv" % depth, n, redis_csv, rps)
        r_p99, _, _ = rounds(raw, "tcp-p%d-redis-r%%d.csv" % depth, n, redis_csv, p99)
        ours, ref = "tcp-p%d-ours-r%%d.json" % depth, "tcp-p%d-redis-r%%d.csv" % depth
        add("TCP lookup vs Redis GET, c50 pipeline %d: rps" % depth, o_rps, r_rps, fmt_rps, ">=", 1.0, o_err,
            ratios=pair(ours, load_json, ref, redis_csv, rps))
        add("TCP lookup vs Redis GET, c50 pipeline %d: p99" % depth, o_p99, r_p99, fmt_us, "<=", 1.0,
            ratios=pair(ours, load_json, ref, redis_csv, p99))
    for depth in (1, 16):
        # One client for both servers: redis-benchmark's clock starts one loop turn after the reply.
        o_rps, o_err, o_p99 = tcp_ours[depth]
        r_rps, r_err, _ = rounds(raw, "tcp-p%d-redis-rcb-r%%d.json" % depth, n, load_json, rps)
        r_p99, _, _ = rounds(raw, "tcp-p%d-redis-rcb-r%%d.json" % depth, n, load_json, p99)
        ours, ref = "tcp-p%d-ours-r%%d.json" % depth, "tcp-p%d-redis-rcb-r%%d.json" % depth
        add("TCP lookup vs Redis GET, both driven by release-chan-bench, c50 pipeline %d: rps" % depth,
            o_rps, r_rps, fmt_rps, ">=", 1.0, o_err, r_err, ratios=pair(ours, load_json, ref, load_json, rps))
        add("TCP lookup vs Redis GET, both driven by release-chan-bench, c50 pipeline %d: p99" % depth,
            o_p99, r_p99, fmt_us, "<=", 1.0, ratios=pair(ours, load_json, ref, load_json, p99))

    open_loop_p99("TCP lookup vs Redis GET, both driven by release-chan-bench, c50 open loop at %.2f× Redis's rps: p99" % share,
                  "tcp-open-ours-r%d.json", "tcp-open-redis-r%d.json")

    o_rps, o_err, _ = rounds(raw, "http-ours-r%d.json", n, last_json_line, rps)
    r_rps, r_err, _ = rounds(raw, "http-nginx-r%d.json", n, last_json_line, rps)
    o_p99, _, _ = rounds(raw, "http-ours-r%d.json", n, last_json_line, p99)
    r_p99, _, _ = rounds(raw, "http-nginx-r%d.json", n, last_json_line, p99)
    add("HTTP single release vs nginx static, wrk c50: rps", o_rps, r_rps, fmt_rps, ">=", 1.0, o_err, r_err,
        ratios=pair("http-ours-r%d.json", last_json_line, "http-nginx-r%d.json", last_json_line, rps))
    add("HTTP single release vs nginx static, wrk c50: p99", o_p99, r_p99, fmt_us, "<=", 1.0,
        ratios=pair("http-ours-r%d.json", last_json_line, "http-nginx-r%d.json", last_json_line, p99))

    open_loop_p99("HTTP single release vs nginx static, both driven by release-chan-bench, c50 open loop at %.2f× nginx's wrk rps: p99" % share,
                  "http-open-ours-r%d.json", "http-open-nginx-r%d.json")

    o_rps, o_err, _ = rounds(raw, "gz-ours-r%d.json", n, last_json_line, rps)
    r_rps, r_err, _ = rounds(raw, "gz-nginx-r%d.json", n, last_json_line, rps)
    add("Full db, gzip, vs nginx gzip_static, wrk c%s: rps" % meta.get("gz_connections", 50), o_rps, r_rps, fmt_rps, ">=", 1.0, o_err, r_err,
        ratios=pair("gz-ours-r%d.json", last_json_line, "gz-nginx-r%d.json", last_json_line, rps))
    # wrk's CPU per response against the server's shows which side bounds the rps above.
    o_cpu, _, _ = rounds(raw, "gz-ours-r%d.json", n, wrk_with_cpu, server_cpu)
    r_cpu, _, _ = rounds(raw, "gz-nginx-r%d.json", n, wrk_with_cpu, server_cpu)
    o_client, _, _ = rounds(raw, "gz-ours-r%d.json", n, wrk_with_cpu, client_cpu)
    r_client, _, _ = rounds(raw, "gz-nginx-r%d.json", n, wrk_with_cpu, client_cpu)
    add("Full db, gzip, vs nginx gzip_static, wrk c%s: server CPU per response" % meta.get("gz_connections", 50),
        o_cpu, r_cpu, fmt_cpu, "<=", 1.0,
        note="wrk's own CPU per response: %s against release-chan, %s against nginx" % (fmt_cpu(o_client), fmt_cpu(r_client)),
        ratios=pair("gz-ours-r%d.json", wrk_with_cpu, "gz-nginx-r%d.json", wrk_with_cpu, server_cpu))

    reload_times = read_floats(os.path.join(raw, "reload-ours.txt"))
    python_times = read_floats(os.path.join(raw, "reload-python.txt"))
    big = "%sk-container db (%s releases, %s)" % (
        int(meta.get("big_containers", 0)) // 1000, format(int(meta.get("big_containers", 0)) * 3, ","),
        fmt_bytes(meta.get("big_db_bytes")))
    add("Reload of the %s vs python json.loads" % big, median(reload_times), median(python_times), fmt_s, "<=", 1.0,
        note="median of %d" % len(reload_times) if reload_times else "")
    rss = load_json(os.path.join(raw, "rss.json")) or {}
    size = meta.get("big_db_bytes")
    add("Server RSS with that db, after start, vs file size", kib(rss.get("after_start_kib")), size, fmt_bytes, "<=", 1.0)
    add("Server RSS with that db, after %d reloads, vs file size" % len(reload_times), kib(rss.get("after_reloads_kib")), size, fmt_bytes, "<=", 1.0)

    idle, _, _ = rounds(raw, "p99-idle-r%d.json", n, load_json, p99)
    busy, busy_err, _ = rounds(raw, "p99-reload-r%d.json", n, load_json, p99)
    reloads = load_json(os.path.join(raw, "reload-loop.json")) or {}
    add("TCP p99 (%s), db reloaded every 1 s, vs idle" % meta.get("reload_load", "?"), busy, idle, fmt_us, "<=", 1.25,
        busy_err, ratios=pair("p99-reload-r%d.json", load_json, "p99-idle-r%d.json", load_json, p99), note="%s new revisions of the %s-container db swapped in during the runs%s" % (
            reloads.get("swaps", "?"), meta.get("containers", "?"),
            ", %d reload requests failed" % reloads["failed_requests"] if reloads.get("failed_requests") else ""))

    change = load_json(os.path.join(raw, "change.json")) or {}
    served = [v for v in change.get("served_ms", []) if v is not None]
    watch = [v for v in change.get("watch_ms", []) if v is not None]
    cached = [v for v in change.get("cached_ms", []) if v is not None]
    trials = change.get("trials", 0)
    add("File change → new revision served (median of %d, max %s)" % (len(served), fmt_ms(max(served) if served else None)),
        median(served), 1000.0, fmt_ms, "<=", 1.0, ref_fmt=lambda v: "goal 1000 ms",
        note="health polled every %s ms" % change.get("poll_ms", "?"))
    add("File change → SDK notified (`release-chan watch`; median of %d, max %s)" % (len(watch), fmt_ms(max(watch) if watch else None)),
        median(watch), 1000.0, fmt_ms, "<=", 1.0, ref_fmt=lambda v: "goal 1000 ms")
    if cached:
        add("File change → SDK cached mode updated (median of %d, max %s)" % (len(cached), fmt_ms(max(cached))),
            median(cached), 1000.0, fmt_ms, "<=", 1.0, ref_fmt=lambda v: "goal 1000 ms",
            note="" if len(cached) == trials else "%d of %d trials" % (len(cached), trials))
    else:
        rows.append({"figure": "File change → SDK cached mode updated", "ours": None, "reference": None, "ratio": None,
                     "goal": "≤ 1.00×", "goal_op": "<=", "goal_ratio": 1.0, "result": "skipped", "ours_text": "n/a", "reference_text": "goal 1000 ms",
                     "note": change.get("cached_note") or meta.get("cached_note") or "not measured"})

    document = {"date": meta.get("date"), "meta": meta, "rows": rows}
    with open(args.json_out, "w") as f:
        json.dump(document, f, indent=2, ensure_ascii=False)
        f.write("\n")

    headers = ["Figure", "release-chan", "Reference", "Ratio", "Goal", "Result"]
    table = [[r["figure"], r["ours_text"], r["reference_text"], "n/a" if r["ratio"] is None else "%.2f×" % r["ratio"],
              r["goal"], r["result"] + (" (%s)" % r["note"] if r["note"] else "")] for r in rows]

    with open(args.md_out, "w") as f:
        f.write("# release-chan vs Redis and nginx: latest `benchmarks/compare.sh` run\n\n")
        for line in header_lines(meta):
            f.write("- %s\n" % line)
        f.write("\n| %s |\n|%s|\n" % (" | ".join(headers), "|".join(["---"] * len(headers))))
        for row in table:
            f.write("| %s |\n" % " | ".join(cell.replace("|", "\\|") for cell in row))
        f.write("\n")
        for line in meta.get("notes", []):
            f.write("%s\n\n" % line)

    widths = [max(len(headers[i]), *(len(row[i]) for row in table)) for i in range(len(headers) - 1)]
    print()
    for line in header_lines(meta):
        print(line)
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  " + headers[-1])
    print("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    print()


def kib(v):
    return None if v is None else v * 1024


def read_floats(path):
    try:
        with open(path) as f:
            return [float(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def header_lines(meta):
    return [
        "Date: %s" % meta.get("date"),
        "Machine: %s cores (%s), %s" % (meta.get("nproc"), meta.get("cpu"), meta.get("kernel")),
        "Command: `%s`" % meta.get("command"),
        "Mode: %s; %s s measured after %s s warm-up per run, median of %s round(s); %s containers × 3 channels (%s releases)"
        % (meta.get("mode"), meta.get("duration"), meta.get("warmup"), meta.get("rounds"), meta.get("containers"),
           format(int(meta.get("containers", 0)) * 3, ",")),
        "Binaries: %s" % meta.get("binaries"),
        "References: %s" % meta.get("versions"),
        "Load generators (release-chan-bench, redis-benchmark, wrk) run on the same %s cores as the servers; "
        "only ratios measured back to back mean anything (run-to-run noise is up to 2×)." % meta.get("nproc"),
    ]


# ----------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("free-ports")
    p.add_argument("count", type=int)
    p.add_argument("--prefer", type=int)
    p.set_defaults(func=cmd_free_ports)

    p = sub.add_parser("prepare")
    p.add_argument("--db", required=True)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--www", required=True)
    p.add_argument("--resp", required=True)
    p.add_argument("--paths", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--sample", type=int, default=200)
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("change-latency")
    p.add_argument("--db", required=True, help="the served db path")
    p.add_argument("--files", nargs=2, required=True, help="two db files with different revisions")
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--watch-cmd", help="argv joined with \\x1f")
    p.add_argument("--example-cmd", help="argv joined with \\x1f")
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--poll-ms", type=float, default=5)
    p.add_argument("--pause", type=float, default=0.3)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_change_latency)

    p = sub.add_parser("reload-loop")
    p.add_argument("--db", required=True, help="the served db path")
    p.add_argument("--files", nargs=2, required=True, help="the db files to swap in, in turn")
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--stop", required=True, help="the loop ends once this file exists")
    p.add_argument("--swaps", required=True)
    p.add_argument("--answers", required=True)
    p.set_defaults(func=cmd_reload_loop)

    p = sub.add_parser("time-json")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_time_json)

    p = sub.add_parser("rate")
    p.add_argument("--fraction", type=float, required=True)
    p.add_argument("file")
    p.set_defaults(func=cmd_rate)

    p = sub.add_parser("report")
    p.add_argument("--raw", required=True)
    p.add_argument("--meta", required=True)
    p.add_argument("--md-out", required=True)
    p.add_argument("--json-out", required=True)
    p.set_defaults(func=cmd_report)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
