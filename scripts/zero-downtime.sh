#!/usr/bin/env bash
# zero-downtime.sh — shows locally that a rolling restart of release-chan drops no request.
#
#   scripts/zero-downtime.sh [BINARY]        (default .build/debug/release-chan; never builds)
#
# Starts two `release-chan serve` instances (A, B) on 127.0.0.1 with the bundled db/db.json, and a
# loopback HTTP/1.1 balancer in front of them that behaves like a Kubernetes Service whose endpoints
# follow pod readiness: round robin over the backends in rotation, a /v1/ready check of every backend
# every 100 ms (a backend answering anything but 200, or refusing connections, leaves the rotation; a
# check that only times out counts after 3 in a row), and one retry on another backend when the
# connection to the chosen one fails. Then, under steady load (ZD_CLIENTS keep-alive clients sending
# GET /v1/releases?container=my-app through the balancer, as fast as they can):
#
#   1. SIGTERM to A. A answers /v1/ready with 503, the balancer takes it out of rotation, the drain
#      delay passes, A closes its listener, finishes what is in flight and exits.
#   2. A is started again on the same port and comes back into rotation once ready.
#   3. SIGTERM to B, the same way. A alone serves the rest.
#
# A request fails when it gets anything but 200 with a body, or a connection error. The script prints
# each step's timing and "zero-downtime: N requests, F failed", and exits 0 only when F is 0, every
# SIGTERMed instance exited with status 0, requests completed while each instance was shutting down,
# and the load ran until the end of the sequence. It is bounded: the load stops after the sequence or
# ZD_MAX_SECONDS / ZD_MAX_REQUESTS, whichever comes first, and every wait has a timeout. Every process
# it starts is stopped by PID on exit. Only 127.0.0.1 is contacted; every port is picked by the kernel.
#
# Environment:
#   ZD_CLIENTS=4            parallel load clients
#   ZD_DRAIN_DELAY=1s       --drain-delay of the instances
#   ZD_MAX_SECONDS=30       hard limit of the load
#   ZD_MAX_REQUESTS=500000  hard limit of the load
#   ZD_STARTUP_TIMEOUT=30   seconds for an instance to become ready
#   ZD_HEALTH_CHECK=1       0: the balancer never checks readiness (every backend always in rotation)
#   ZD_RETRY=1              0: the balancer never retries
#   ZD_KEEP=1               keep the work directory (logs, load and balancer results)
# ZD_DRAIN_DELAY=0s ZD_HEALTH_CHECK=0 ZD_RETRY=0 is the naive setup; it shows failed requests, which is
# how to see that the counting works.
#
# Needs: bash, python3 (standard library only), curl. Exit status: 0 passed, 1 failed, 2 usage or
# environment problem.
set -euo pipefail

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_ROOT
readonly DB="$REPO_ROOT/db/db.json"

CLIENTS=${ZD_CLIENTS:-4}
DRAIN_DELAY=${ZD_DRAIN_DELAY:-1s}
MAX_SECONDS=${ZD_MAX_SECONDS:-30}
MAX_REQUESTS=${ZD_MAX_REQUESTS:-500000}
STARTUP_TIMEOUT=${ZD_STARTUP_TIMEOUT:-30}
HEALTH_CHECK=${ZD_HEALTH_CHECK:-1}
RETRY=${ZD_RETRY:-1}
KEEP=${ZD_KEEP:-0}
readonly SHUTDOWN_TIMEOUT=5s
readonly QUERY="/v1/releases?container=my-app"

usage_error() {
    echo "zero-downtime: $*" >&2
    exit 2
}

die() {
    echo "zero-downtime: FAIL: $*" >&2
    exit 1
}

say() {
    echo "zero-downtime: $*"
}

# --- inputs -----------------------------------------------------------------------------------------

(($# <= 1)) || usage_error "usage: scripts/zero-downtime.sh [BINARY]"
BINARY=${1:-$REPO_ROOT/.build/debug/release-chan}
[[ -f $BINARY && -x $BINARY ]] || usage_error "$BINARY is not an executable file (build it first: swift build)"
[[ -f $DB ]] || usage_error "$DB is missing"
for tool in python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || usage_error "missing tool: $tool"
done
for pair in "ZD_CLIENTS=$CLIENTS" "ZD_MAX_SECONDS=$MAX_SECONDS" "ZD_MAX_REQUESTS=$MAX_REQUESTS" \
    "ZD_STARTUP_TIMEOUT=$STARTUP_TIMEOUT"; do
    [[ ${pair#*=} =~ ^[1-9][0-9]*$ ]] || usage_error "${pair%%=*} must be a positive whole number"
done
[[ $DRAIN_DELAY =~ ^[0-9]+(ms|s)$ ]] || usage_error "ZD_DRAIN_DELAY must look like 1s or 500ms"
[[ $HEALTH_CHECK == [01] && $RETRY == [01] && $KEEP == [01] ]] ||
    usage_error "ZD_HEALTH_CHECK, ZD_RETRY and ZD_KEEP must be 0 or 1"

# --- processes and cleanup --------------------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/zero-downtime.XXXXXX")
readonly WORK
readonly PY="$WORK/zd.py"
readonly EVENTS="$WORK/events.tsv"
declare -A PID=() PORT=() RUNS=()
BALANCER_PID=""
LOAD_PID=""
LB_PORT=""

# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL; reaps it. Only for processes this script started.
stop_pid() {
    local pid=$1 _
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$? name
    trap - EXIT INT TERM
    stop_pid "$LOAD_PID"
    for name in "${!PID[@]}"; do
        stop_pid "${PID[$name]}"
    done
    stop_pid "$BALANCER_PID"
    if [[ $KEEP == 1 ]]; then
        echo "zero-downtime: kept $WORK"
    else
        rm -rf -- "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

event() {
    printf '%s\t%s\t%s\n' "$(date +%s.%N)" "$1" "${*:2}" >>"$EVENTS"
}

# --- the balancer, the load client and the report (Python 3, standard library) ----------------------

cat >"$PY" <<'PYTHON'
"""Loopback balancer, load client and report for scripts/zero-downtime.sh."""
import argparse
import collections
import http.client
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
              "upgrade", "content-length", "server", "date"}
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


def log(what, message):
    now = time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    print(f"{stamp} {what}: {message}", file=sys.stderr, flush=True)


# ---- balancer ---------------------------------------------------------------------------------------

class Backend:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.address, self.host, self.port = address, host, int(port)
        self.healthy = False
        self.generation = 0          # bumped on every change: pooled connections of older ones are dropped
        self.served = 0
        self.transitions = []        # [time, in_rotation, reason]


class Balancer:
    def __init__(self, addresses, health_check, retry, interval):
        self.backends = [Backend(a) for a in addresses]
        self.lock = threading.Lock()
        self.next = 0
        self.retry = retry
        self.retries = 0
        self.errors = collections.Counter()   # what the balancer answered with 502/503, and why
        self.local = threading.local()
        if health_check:
            for backend in self.backends:
                threading.Thread(target=self.check, args=(backend, interval), daemon=True).start()
        else:
            for backend in self.backends:
                self.set_health(backend, True, "no health check")

    def set_health(self, backend, healthy, reason):
        with self.lock:
            if backend.healthy == healthy and backend.transitions:
                return
            backend.healthy = healthy
            backend.generation += 1
            backend.transitions.append([time.time(), healthy, reason])
        log("balancer", f"{backend.address} {'in rotation' if healthy else 'out of rotation'} ({reason})")

    def check(self, backend, interval):
        timeouts = 0
        while True:
            try:
                conn = http.client.HTTPConnection(backend.host, backend.port, timeout=1)
                try:
                    conn.request("GET", "/v1/ready")
                    response = conn.getresponse()
                    response.read()
                finally:
                    conn.close()
                timeouts = 0
                self.set_health(backend, response.status == 200, f"ready {response.status}")
            except TimeoutError:
                # A slow answer is not a "no": like a probe's failureThreshold, three in a row are.
                timeouts += 1
                if timeouts >= 3:
                    self.set_health(backend, False, "ready timed out 3 times")
            except CONNECTION_ERRORS as error:
                timeouts = 0
                self.set_health(backend, False, type(error).__name__)
            time.sleep(interval)

    def pick(self, exclude=None):
        with self.lock:
            candidates = [b for b in self.backends if b.healthy and b is not exclude]
            if not candidates:
                return None
            self.next += 1
            return candidates[self.next % len(candidates)]

    def forward(self, backend, path, headers):
        pool = self.local.__dict__.setdefault("pool", {})
        entry = pool.pop(backend.address, None)
        if entry is not None and entry[0] != backend.generation:
            entry[1].close()
            entry = None
        conn = entry[1] if entry else http.client.HTTPConnection(backend.host, backend.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except CONNECTION_ERRORS:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            pool[backend.address] = (backend.generation, conn)
        with self.lock:
            backend.served += 1
        return response.status, response.getheaders(), body

    def status(self):
        with self.lock:
            return {"retries": self.retries, "errors": dict(self.errors),
                    "backends": [{"address": b.address, "in_rotation": b.healthy, "served": b.served,
                                  "transitions": b.transitions} for b in self.backends]}


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body are separate writes: no 40 ms delayed-ACK stall

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=(), backend=None):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if backend is not None:
            self.send_header("X-Backend", backend.address)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        lb = self.server.balancer
        if self.path == "/_balancer/status":
            body = json.dumps(lb.status()).encode()
            return self.reply(200, body, [("Content-Type", "application/json")])
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        backend = lb.pick()
        if backend is None:
            with lb.lock:
                lb.errors["503 no backend in rotation"] += 1
            return self.reply(503, b"no backend in rotation\n")
        try:
            status, response_headers, body = lb.forward(backend, self.path, headers)
        except CONNECTION_ERRORS as error:
            first_error = f"{backend.address}: {type(error).__name__}"
            if not lb.retry:
                with lb.lock:
                    lb.errors[f"502 {type(error).__name__}"] += 1
                return self.reply(502, f"{first_error}\n".encode())
            # Once, on another backend in rotation (the same one, on a new connection, if it is alone).
            retry_backend = lb.pick(exclude=backend) or backend
            with lb.lock:
                lb.retries += 1
            log("balancer", f"retry: {first_error} -> {retry_backend.address}")
            try:
                status, response_headers, body = lb.forward(retry_backend, self.path, headers)
                backend = retry_backend
            except CONNECTION_ERRORS as error:
                with lb.lock:
                    lb.errors[f"502 {type(error).__name__} after retry"] += 1
                return self.reply(502, f"{first_error}; retry {retry_backend.address}: "
                                       f"{type(error).__name__}\n".encode())
        self.reply(status, body, response_headers, backend)


def balance(args):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ProxyHandler)
    server.daemon_threads = True
    server.balancer = Balancer(args.backends, args.health_check, args.retry, args.interval)
    with open(args.port_file + ".tmp", "w") as out:
        out.write(f"{server.server_address[1]}\n")
    os.replace(args.port_file + ".tmp", args.port_file)
    log("balancer", f"listening on 127.0.0.1:{server.server_address[1]} for {' '.join(args.backends)}")
    server.serve_forever(poll_interval=0.1)


# ---- load -------------------------------------------------------------------------------------------

def load(args):
    host, port = args.host, args.port
    stop = threading.Event()
    lock = threading.Lock()
    state = {"total": 0, "failed": 0, "stopped_by": None}
    reasons = collections.Counter()
    buckets = collections.Counter()      # completed requests per 100 ms (key: int(time * 10))
    failures = []
    started = time.time()
    deadline = time.monotonic() + args.max_seconds

    def finish(why):
        with lock:
            if state["stopped_by"] is None:
                state["stopped_by"] = why
        stop.set()

    def watch():
        while not stop.is_set():
            if os.path.exists(args.stop_file):
                return finish("stop-file")
            if time.monotonic() > deadline:
                return finish("max-seconds")
            time.sleep(0.02)

    def client():
        conn = None
        while not stop.is_set():
            reason = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", args.path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or not body:
                    reason = f"HTTP {response.status}"
                if response.will_close:
                    conn.close()
                    conn = None
            except CONNECTION_ERRORS as error:
                reason = type(error).__name__
                if conn is not None:
                    conn.close()
                conn = None
            now = time.time()
            with lock:
                state["total"] += 1
                buckets[int(now * 10)] += 1
                if reason is not None:
                    state["failed"] += 1
                    reasons[reason] += 1
                    if len(failures) < 50:
                        failures.append([now, reason])
                if state["total"] >= args.max_requests:
                    stop_now = True
                else:
                    stop_now = False
            if stop_now:
                finish("max-requests")
            if reason is not None and not stop.is_set():
                time.sleep(0.01)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=watch)] + [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump({"started": started, "ended": time.time(), "total": state["total"], "failed": state["failed"],
               "stopped_by": state["stopped_by"], "reasons": dict(reasons), "failures": failures,
               "buckets": {str(k): v for k, v in sorted(buckets.items())}}, sys.stdout)


# ---- report -----------------------------------------------------------------------------------------

def report(args):
    with open(args.load) as f:
        result = json.load(f)
    with open(args.balancer) as f:
        balancer = json.load(f)
    events = []
    with open(args.events) as f:
        for line in f:
            stamp, name, what = line.rstrip("\n").split("\t", 2)
            events.append((float(stamp), name, what.split()))
    buckets = {int(k): v for k, v in result["buckets"].items()}
    start = result["started"]
    problems = []

    def rel(t):
        return f"{t - start:+.2f}s"

    def completed(t0, t1):
        return sum(v for k, v in buckets.items() if t0 * 10 <= k < t1 * 10)

    by_address = {b["address"]: b for b in balancer["backends"]}
    sigterm = {}
    for stamp, name, what in events:
        if what[0] == "started":
            print(f"zero-downtime: {rel(stamp)} instance {name} ready on 127.0.0.1:{what[1]}")
        elif what[0] == "stopped":
            print(f"zero-downtime: {rel(stamp)} instance {name} stopped after the load: exit {what[1]}")
            if int(what[1]) != 0:
                problems.append(f"instance {name} exited with status {what[1]} after SIGTERM")
        elif what[0] == "sigterm":
            sigterm[name] = (stamp, what[1])
        elif what[0] == "exited":
            t0, port = sigterm.pop(name)
            status = int(what[1])
            backend = by_address.get(f"127.0.0.1:{port}", {"transitions": []})
            out = [t for t, up, _ in backend["transitions"] if not up and t >= t0]
            out_after = f"out of rotation after {(out[0] - t0) * 1000:.0f} ms, " if out else ""
            during = completed(t0, stamp)
            print(f"zero-downtime: {rel(t0)} SIGTERM to {name}: {out_after}exited {status} after "
                  f"{stamp - t0:.2f}s; {during} requests completed meanwhile")
            if status != 0:
                problems.append(f"instance {name} exited with status {status} after SIGTERM")
            if during == 0:
                problems.append(f"no request completed while {name} was shutting down: the load did not cover it")
    if sigterm:
        problems.append(f"no exit recorded for {', '.join(sigterm)}")
    served = ", ".join(f"{b['address']} {b['served']}" for b in balancer["backends"])
    print(f"zero-downtime: balancer: served {served}; retries {balancer['retries']}"
          + (f"; errors {balancer['errors']}" if balancer["errors"] else ""))
    duration = result["ended"] - start
    print(f"zero-downtime: load: {args.clients} clients for {duration:.1f}s "
          f"(~{result['total'] / max(duration, 0.001):.0f} req/s), stopped by {result['stopped_by']}")
    if result["failed"]:
        print(f"zero-downtime: failures by reason: {result['reasons']}")
        for t, reason in result["failures"][:10]:
            print(f"zero-downtime:   {rel(t)} {reason}")
    if result["stopped_by"] != "stop-file":
        problems.append(f"the load stopped ({result['stopped_by']}) before the sequence ended")
    if result["total"] == 0:
        problems.append("no request was sent")
    if result["failed"]:
        problems.append(f"{result['failed']} requests failed")
    print(f"zero-downtime: {result['total']} requests, {result['failed']} failed")
    for problem in problems:
        print(f"zero-downtime: FAIL: {problem}")
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("balance")
    b.add_argument("--port-file", required=True)
    b.add_argument("--health-check", type=int, default=1)
    b.add_argument("--retry", type=int, default=1)
    b.add_argument("--interval", type=float, default=0.1)
    b.add_argument("backends", nargs="+")
    l = sub.add_parser("load")
    l.add_argument("--host", default="127.0.0.1")
    l.add_argument("--port", type=int, required=True)
    l.add_argument("--path", required=True)
    l.add_argument("--clients", type=int, required=True)
    l.add_argument("--stop-file", required=True)
    l.add_argument("--max-seconds", type=float, required=True)
    l.add_argument("--max-requests", type=int, required=True)
    r = sub.add_parser("report")
    r.add_argument("--load", required=True)
    r.add_argument("--balancer", required=True)
    r.add_argument("--events", required=True)
    r.add_argument("--clients", type=int, required=True)
    args = parser.parse_args()
    if args.command == "balance":
        balance(args)
    elif args.command == "load":
        load(args)
    else:
        sys.exit(report(args))


if __name__ == "__main__":
    main()
PYTHON

# --- instances --------------------------------------------------------------------------------------

# start_instance NAME PORT: starts `release-chan serve` (PORT 0: the kernel picks one) and waits until
# /v1/ready answers 200. Sets PID[NAME] and PORT[NAME]; the log is $WORK/NAME.<run>.log.
start_instance() {
    local name=$1 port=$2 log found="" deadline
    RUNS[$name]=$((${RUNS[$name]:-0} + 1))
    log="$WORK/$name.${RUNS[$name]}.log"
    : >"$log" # exists before the background process opens it
    "$BINARY" serve --db "$DB" --host 127.0.0.1 --http-port "$port" --tcp-port 0 \
        --drain-delay "$DRAIN_DELAY" --shutdown-timeout "$SHUTDOWN_TIMEOUT" \
        --access-log false --log-level info 2>"$log" &
    PID[$name]=$!
    deadline=$((SECONDS + STARTUP_TIMEOUT))
    while [[ -z $found ]]; do
        found=$(sed -n 's/.*port=\([0-9][0-9]*\).*serving HTTP$/\1/p' "$log" | head -n 1) || found=""
        [[ -n $found ]] && break
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            PID[$name]=""
            tail -n 20 "$log" >&2
            die "instance $name exited during startup (log above)"
        fi
        ((SECONDS < deadline)) || die "instance $name did not start listening within ${STARTUP_TIMEOUT}s"
        sleep 0.05
    done
    PORT[$name]=$found
    until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$found/v1/ready" 2>/dev/null; do
        ((SECONDS < deadline)) || die "instance $name was not ready within ${STARTUP_TIMEOUT}s"
        sleep 0.05
    done
    event "$name" started "$found"
}

# stop_instance NAME [after-load]: SIGTERM, waits for the exit (bounded), records the exit status.
# With after-load the stop is not counted as a shutdown under load (only its exit status is checked).
stop_instance() {
    local name=$1 pid=${PID[$1]} status=0 deadline
    [[ ${2:-} == after-load ]] || event "$name" sigterm "${PORT[$name]}"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.02
    done
    wait "$pid" || status=$?
    PID[$name]=""
    if [[ ${2:-} == after-load ]]; then
        event "$name" stopped "$status"
    else
        event "$name" exited "$status"
    fi
}

balancer_status() {
    curl -fsS --max-time 2 "http://127.0.0.1:$LB_PORT/_balancer/status"
}

# wait_in_rotation NAME: until the balancer routes to NAME (bounded).
wait_in_rotation() {
    local address="127.0.0.1:${PORT[$1]}" deadline=$((SECONDS + 10))
    until balancer_status 2>/dev/null | python3 -c '
import json, sys
status = json.load(sys.stdin)
sys.exit(0 if any(b["address"] == sys.argv[1] and b["in_rotation"] for b in status["backends"]) else 1)
' "$address"; do
        ((SECONDS < deadline)) || die "the balancer did not put $1 ($address) in rotation within 10s"
        sleep 0.05
    done
}

# --- the sequence -----------------------------------------------------------------------------------

say "binary $BINARY; drain delay $DRAIN_DELAY; balancer health check $HEALTH_CHECK, retry $RETRY"
: >"$EVENTS"

start_instance a 0
start_instance b 0

python3 "$PY" balance --port-file "$WORK/balancer.port" --health-check "$HEALTH_CHECK" --retry "$RETRY" \
    "127.0.0.1:${PORT[a]}" "127.0.0.1:${PORT[b]}" 2>"$WORK/balancer.log" &
BALANCER_PID=$!
deadline=$((SECONDS + 10))
until [[ -s $WORK/balancer.port ]]; do
    kill -0 "$BALANCER_PID" 2>/dev/null || { cat "$WORK/balancer.log" >&2; die "the balancer exited"; }
    ((SECONDS < deadline)) || die "the balancer did not start within 10s"
    sleep 0.05
done
LB_PORT=$(<"$WORK/balancer.port")
wait_in_rotation a
wait_in_rotation b
say "instances a (127.0.0.1:${PORT[a]}) and b (127.0.0.1:${PORT[b]}) behind the balancer on 127.0.0.1:$LB_PORT"

python3 "$PY" load --port "$LB_PORT" --path "$QUERY" --clients "$CLIENTS" --stop-file "$WORK/stop" \
    --max-seconds "$MAX_SECONDS" --max-requests "$MAX_REQUESTS" >"$WORK/load.json" 2>"$WORK/load.log" &
LOAD_PID=$!
sleep 2 # steady load first

stop_instance a
start_instance a "${PORT[a]}" # the replacement, on the same address (like a new pod behind the Service)
wait_in_rotation a
sleep 1
stop_instance b
sleep 1.5 # a alone

touch "$WORK/stop"
wait "$LOAD_PID" || die "the load client failed (log: $(tail -n 5 "$WORK/load.log"))"
LOAD_PID=""
balancer_status >"$WORK/balancer.json" || die "cannot read the balancer status"
stop_instance a after-load
stop_pid "$BALANCER_PID"
BALANCER_PID=""

python3 "$PY" report --load "$WORK/load.json" --balancer "$WORK/balancer.json" --events "$EVENTS" \
    --clients "$CLIENTS"
