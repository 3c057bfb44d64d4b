#!/usr/bin/env bash
# benchmarks/compare.sh: release-chan side by side with Redis and nginx, on one machine, back to back.
#
# Usage: benchmarks/compare.sh [--quick]
#
#   --quick   CI/smoke form: 3 s runs after 1 s warm-up, one round, a 1k-container db (10k for the
#             reload row); finishes in under two minutes on 2 cores. No timing assertions.
#
# Environment:
#   RELEASE_CHAN_BIN_DIR   use release-chan and release-chan-bench from this directory instead of
#                          building them (`swift build -c release --product release-chan`, then the
#                          same for release-chan-bench: given twice, --product builds only the last).
#   RELEASE_CHAN_EXAMPLE_BIN  the SDK example (release-chan-example, cached mode) used for the
#                          "SDK cached mode updated" row; default: BIN_DIR/release-chan-example if present.
#   DURATION WARMUP ROUNDS CONTAINERS BIG_CONTAINERS CHANGE_TRIALS RELOAD_TRIALS
#                          override the mode's defaults (seconds, seconds, count, containers, ...).
#   RELOAD_RATE            run the p99-under-reload pair open loop at this many requests/s
#                          (default: closed loop, like the TCP rows).
#   RESULTS_DIR            where latest.md / latest.json go (default benchmarks/results).
#   LOOKUP_THREADS         event loops of the release-chan serving the TCP rows (default 1, as Redis
#                          runs commands on one thread; the HTTP rows use the default, one per core).
#   KEEP_TMP=1             keep the temporary directory (dbs, configs, raw outputs, server logs).
#
# What it does:
#   1. Installs redis-server (redis-benchmark, redis-cli), nginx, wrk, curl and python3 with apt-get
#      when missing; builds the release binaries unless RELEASE_CHAN_BIN_DIR is set.
#   2. Generates one db (`release-chan db generate --containers N`, 3 channels) and serves it with
#      release-chan, Redis and nginx, all on 127.0.0.1 on free ports, from a temporary directory:
#      - Redis (`--save "" --appendonly no`) holds every release under `container:channel`, value the
#        bare release JSON that GET /v1/releases/{container}/{channel} returns (the same bytes: checked
#        on a sample, or fetched from the server when they differ). redis-benchmark can only draw keys
#        as `__rand_int__`, so each value is stored once more under `k:<12-digit index>`; the GETs
#        then hit the same values, uniformly over all releases, as release-chan-bench's uniform keys.
#      - nginx serves the same bytes as static files at the same paths (on a tmpfs in /dev/shm when
#        there is one, as the other servers answer from memory), and GET /v1/releases as db.json
#        with `gzip_static on` over db.json.gz, the exact gzip bytes release-chan sends. Files on
#        disk are read back into the page cache before each round's HTTP rows.
#        wrk runs the same Lua script (benchmarks/compare/wrk.lua: uniform random release path) against
#        both servers.
#   3. Measures, each pair back to back (ours first in odd rounds, the reference first in even ones),
#      ROUNDS times; reports medians, and each round's ratio when there is more than one round:
#      - TCP lookups (release-chan-bench tcp, one thread) vs redis-benchmark GET (one thread): 50
#        connections, pipeline 1 and 16: rps and p99, against a second release-chan with
#        LOOKUP_THREADS event loops and its own copy of the db. redis-benchmark counts requests, not
#        seconds: a short calibration run sizes -n so that each run lasts about as long as ours.
#      - The same pairs with one client for both: release-chan-bench tcp vs release-chan-bench redis
#        (GET container:channel). redis-benchmark starts its clock when it writes a request, one
#        event-loop turn after reading the previous reply, so fewer requests wait in queues than it
#        has connections; release-chan-bench writes at once. Its p99 is not comparable with ours
#        as such; these rows are.
#      - TCP p99 at the same offered load: release-chan-bench tcp vs redis, open loop at
#        OPEN_LOOP_SHARE × the round's closed-loop rps of Redis under release-chan-bench.
#      - HTTP single-release lookup vs nginx static file: wrk, 50 connections, rps and p99; then the
#        p99 at the same offered load (release-chan-bench http against both, open loop at
#        OPEN_LOOP_SHARE × nginx's wrk rps in the round).
#      - Full db download with Accept-Encoding: gzip vs nginx gzip_static: wrk, rps; and the CPU each
#        server, and wrk, used per response while it ran (/proc/PID/stat; wrk's from `times`).
#      - The reload row uses a server of its own on a BIG_CONTAINERS db (--watch false): the wall
#        time of POST /v1/reload after the other big db (another seed) was renamed into place, vs
#        python3 reading + json.loads of the same file (interpreter start-up excluded); steady VmRSS of
#        the server after start and after the reloads, vs the file size.
#      - TCP lookup p99 (release-chan-bench, 50 connections, pipeline 1, closed loop; or open loop at
#        RELOAD_RATE requests/s when set, latency corrected for coordinated omission) while a loop
#        (one python process) renames a hard link of the other db over the served file and POSTs
#        /v1/reload every second, vs the same run idle.
#      - File change -> new revision in GET /v1/health (polled every 5 ms), -> `release-chan watch`
#        prints it (SDK change notification), -> the SDK example in cached mode prints it (its
#        in-memory db holds the new revision; needs the example binary and TCP port 8090, which the
#        example hard-codes; skipped with a note otherwise).
#   4. Prints one table (ours, reference, ratio, goal from issue 4, PASS/short) and writes it to
#      benchmarks/results/latest.md and latest.json with the date, `nproc` and the command line.
#
# Every load is bounded in time (timeout), every server is stopped by its PID (trap on exit), and
# only 127.0.0.1 is used. The load generators share the cores with the servers: on a 2-core machine
# the ratios, not the absolute figures, are what to read.

set -euo pipefail

QUICK=0
for argument in "$@"; do
    case "$argument" in
        --quick) QUICK=1 ;;
        -h | --help)
            sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "compare.sh: unknown argument '$argument' (try --help)" >&2
            exit 2
            ;;
    esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/benchmarks/compare
HELPER=$HERE/helper.py
COMMAND_LINE="benchmarks/compare.sh${*:+ $*}"
if [[ -n ${RELEASE_CHAN_BIN_DIR:-} ]]; then
    COMMAND_LINE="RELEASE_CHAN_BIN_DIR=$RELEASE_CHAN_BIN_DIR $COMMAND_LINE"
fi
STARTED=$(date +%s)

if ((QUICK)); then
    MODE=quick
    : "${DURATION:=3}" "${WARMUP:=1}" "${ROUNDS:=1}" "${CONTAINERS:=1000}" "${BIG_CONTAINERS:=10000}"
    : "${CHANGE_TRIALS:=3}" "${RELOAD_TRIALS:=2}"
else
    MODE=full
    : "${DURATION:=10}" "${WARMUP:=2}" "${ROUNDS:=3}" "${CONTAINERS:=10000}" "${BIG_CONTAINERS:=100000}"
    : "${CHANGE_TRIALS:=10}" "${RELOAD_TRIALS:=3}"
fi
: "${RESULTS_DIR:=$ROOT/benchmarks/results}" "${LOOKUP_THREADS:=1}"
CONNECTIONS=50
GZ_CONNECTIONS=50
# Longest any single load may run: its duration plus warm-up, with room for a slow start.
LOAD_LIMIT=$((DURATION + WARMUP + 30))

log() { printf '[compare %3ds] %s\n' "$(($(date +%s) - STARTED))" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# ---------------------------------------------------------------------------------------------------
# 1. Tools

missing_packages=()
for pair in redis-server:redis-server redis-benchmark:redis-server redis-cli:redis-server \
    nginx:nginx wrk:wrk curl:curl python3:python3 timeout:coreutils; do
    tool=${pair%%:*}
    package=${pair#*:}
    if ! command -v "$tool" >/dev/null 2>&1 && ! [[ -x /usr/sbin/$tool ]]; then
        [[ " ${missing_packages[*]} " == *" $package "* ]] || missing_packages+=("$package")
    fi
done
if ((${#missing_packages[@]})); then
    log "installing ${missing_packages[*]} with apt-get"
    SUDO=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "need root or sudo to install ${missing_packages[*]}"
        SUDO=(sudo)
    fi
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ---------------------------------------------------------------------------------------------------
# 2. Binaries

if [[ -n ${RELEASE_CHAN_BIN_DIR:-} ]]; then
    BIN_DIR=$(cd "$RELEASE_CHAN_BIN_DIR" && pwd)
else
    log "building release binaries (swift build -c release)"
    # One product per build: swift build takes the last of several --product options and builds that alone.
    (cd "$ROOT" && swift build -c release --product release-chan)
    (cd "$ROOT" && swift build -c release --product release-chan-bench)
    # The SDK example (cached mode) is optional: the table says so when it is missing.
    (cd "$ROOT" && swift build -c release --product release-chan-example) ||
        log "could not build release-chan-example: the SDK cached-mode row will be skipped"
    BIN_DIR=$(cd "$ROOT" && swift build -c release --show-bin-path)
fi
RC=$BIN_DIR/release-chan
RCB=$BIN_DIR/release-chan-bench
EXAMPLE=${RELEASE_CHAN_EXAMPLE_BIN:-$BIN_DIR/release-chan-example}
[[ -x $RC && -x $RCB ]] || die "no release-chan / release-chan-bench in $BIN_DIR"

# ---------------------------------------------------------------------------------------------------
# Servers and cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/release-chan-compare.XXXXXX")
chmod 755 "$WORK" # nginx workers may run as another user
RAW=$WORK/raw
LOGS=$WORK/logs
mkdir -p "$RAW" "$LOGS" "$WORK/serve" "$WORK/big"
PIDS=()

stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "PID $pid did not stop within 10 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$? i
    trap - EXIT INT TERM
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[i]}"
    done
    # Memory, not disk: never kept.
    [[ -n ${SHM:-} ]] && rm -rf "$SHM"
    # Kept for a look after a failure (or with KEEP_TMP=1); an interrupted run (130, 143) cleans up.
    if [[ ${KEEP_TMP:-0} == 1 ]] || ((status != 0 && status != 130 && status != 143)); then
        log "temporary files kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs COMMAND in the background, output to logs/NAME.log; sets STARTED_PID.
start() {
    local name=$1
    shift
    "$@" >"$LOGS/$name.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

forget_pid() {
    local pid=$1 kept=() p
    for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
    PIDS=("${kept[@]}")
}

stop() {
    stop_pid "$1"
    forget_pid "$1"
}

# wait_http URL PID SECONDS
wait_http() {
    local url=$1 pid=$2 limit=$3 deadline
    deadline=$(($(date +%s) + limit))
    until curl -sf -o /dev/null -m 2 "$url"; do
        kill -0 "$pid" 2>/dev/null || die "server for $url exited; see logs in $LOGS"
        (($(date +%s) < deadline)) || die "$url not ready after $limit s"
        sleep 0.1
    done
}

# wait_tcp PORT PID SECONDS
wait_tcp() {
    local port=$1 pid=$2 limit=$3 deadline
    deadline=$(($(date +%s) + limit))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || die "server on port $port exited; see logs in $LOGS"
        (($(date +%s) < deadline)) || die "port $port not open after $limit s"
        sleep 0.1
    done
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# wait_settled PORT PID SECONDS: until the server is done with the last reload, including the gzip form
# of the whole db that it computes after the swap (HEAD /v1/releases then says Content-Encoding: gzip).
wait_settled() {
    local port=$1 pid=$2 limit=$3 deadline
    deadline=$(($(date +%s) + limit))
    until curl -sfI -m 5 -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/v1/releases" | grep -qi '^content-encoding: gzip'; do
        kill -0 "$pid" 2>/dev/null || die "server on port $port exited; see logs in $LOGS"
        (($(date +%s) < deadline)) || die "the server on port $port did not settle after $limit s"
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------------------
# 3. The db

DB_A=$WORK/db-a.json
DB_B=$WORK/db-b.json
SERVED=$WORK/serve/db.json
log "generating the db: $CONTAINERS containers × 3 channels"
"$RC" db generate --containers "$CONTAINERS" --seed 1 --output "$DB_A" 2>>"$LOGS/generate.log"
# The same keys with one release changed: a second revision for reloads and change latency.
cp "$DB_A" "$DB_B"
FIRST=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["releases"][-1]; print(r["container"], r["channel"], r["image"].rsplit(":", 1)[0])' "$DB_A")
read -r FIRST_CONTAINER FIRST_CHANNEL FIRST_REPO <<<"$FIRST"
"$RC" db set --db "$DB_B" --container "$FIRST_CONTAINER" --channel "$FIRST_CHANNEL" \
    --image "$FIRST_REPO:v999.0.0" --force >>"$LOGS/generate.log" 2>&1
rm -f "$DB_B.lock"
cp "$DB_A" "$SERVED"
# The lookup server (TCP rows, p99 under reload) serves its own copy, so its reloads touch no other server.
LOOKUP_SERVED=$WORK/lookup/db.json
mkdir -p "$WORK/lookup"
cp "$DB_A" "$LOOKUP_SERVED"
DB_BYTES=$(stat -c %s "$DB_A")

# TCP port 8090 when free: the SDK example (cached-mode row) hard-codes 127.0.0.1:8090.
read -r TCP_PORT HTTP_PORT REDIS_PORT NGINX_PORT LOOKUP_TCP_PORT LOOKUP_HTTP_PORT \
    <<<"$(python3 "$HELPER" free-ports 6 --prefer 8090)"

log "starting release-chan (HTTP $HTTP_PORT, TCP $TCP_PORT)"
start release-chan "$RC" serve --db "$SERVED" --host 127.0.0.1 --http-port "$HTTP_PORT" --tcp-port "$TCP_PORT" \
    --access-log false --log-level warning
SERVER_PID=$STARTED_PID
wait_http "http://127.0.0.1:$HTTP_PORT/v1/health" "$SERVER_PID" 120
wait_tcp "$TCP_PORT" "$SERVER_PID" 30

# Redis executes commands on one thread and redis-benchmark drives it from one: the TCP rows give
# release-chan one event loop as well (the load generator takes the other core of a 2-core machine;
# with one loop per core the server's loops and the client preempt each other and p99 suffers).
log "starting the lookup release-chan, $LOOKUP_THREADS event loop(s) (HTTP $LOOKUP_HTTP_PORT, TCP $LOOKUP_TCP_PORT)"
start release-chan-lookup "$RC" serve --db "$LOOKUP_SERVED" --host 127.0.0.1 --http-port "$LOOKUP_HTTP_PORT" \
    --tcp-port "$LOOKUP_TCP_PORT" --event-loop-threads "$LOOKUP_THREADS" --access-log false --log-level warning
LOOKUP_PID=$STARTED_PID
wait_http "http://127.0.0.1:$LOOKUP_HTTP_PORT/v1/health" "$LOOKUP_PID" 120
wait_tcp "$LOOKUP_TCP_PORT" "$LOOKUP_PID" 30

log "exporting every release for Redis and nginx"
WWW=$WORK/nginx/www
mkdir -p "$WWW" "$WORK/nginx/tmp"
python3 "$HELPER" prepare --db "$SERVED" --http-port "$HTTP_PORT" --www "$WWW" --resp "$WORK/redis.resp" \
    --paths "$WORK/paths.txt" --summary "$RAW/prepare.json" >&2
RELEASES=$(wc -l <"$WORK/paths.txt")
# The release files live in memory (tmpfs, where /dev/shm is one), as Redis's values and release-chan's
# snapshot do: the page cache of a file on disk is not guaranteed to stay (warm_page_cache, below). The
# whole db stays on disk, where nginx sends it from large folios, as release-chan sends its gzip form.
SHM=""
if [[ -d /dev/shm && -w /dev/shm ]] && SHM=$(mktemp -d /dev/shm/release-chan-compare.XXXXXX 2>/dev/null); then
    chmod 755 "$SHM"
    mv "$WWW/v1" "$SHM/v1"
    ln -s "$SHM/v1" "$WWW/v1"
else
    SHM=""
    log "no writable /dev/shm: the release files stay in $WWW"
fi
chmod -R a+rX "$WORK/nginx" ${SHM:+"$SHM"}

log "starting Redis (port $REDIS_PORT)"
start redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize no \
    --dir "$WORK" --logfile "$LOGS/redis-server.log"
REDIS_PID=$STARTED_PID
wait_tcp "$REDIS_PORT" "$REDIS_PID" 30
timeout 120 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --pipe <"$WORK/redis.resp" >"$LOGS/redis-load.log"
KEYS=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" dbsize)
((KEYS == 2 * RELEASES)) || die "Redis holds $KEYS keys, expected $((2 * RELEASES))"

log "starting nginx (port $NGINX_PORT)"
NGINX_USER=""
((EUID == 0)) && NGINX_USER="user root root;"
# nginx keeps a descriptor open per cached file: as many as the hard limit allows, less room for
# connections (its workers run with the hard limit).
NOFILE=$(ulimit -Hn)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
FILE_CACHE=$((NOFILE - 4096 - 256))
((FILE_CACHE > RELEASES + 16)) && FILE_CACHE=$((RELEASES + 16))
((FILE_CACHE < 256)) && FILE_CACHE=256
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@WORKERS@|$(nproc)|g" \
    -e "s|@NOFILE@|$NOFILE|g" -e "s|@FILE_CACHE@|$FILE_CACHE|g" \
    -e "s|@USER@|$NGINX_USER|g" "$HERE/nginx.conf.template" >"$WORK/nginx/nginx.conf"
start nginx "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
NGINX_PID=$STARTED_PID
wait_http "http://127.0.0.1:$NGINX_PORT/v1/releases" "$NGINX_PID" 30

# The three servers answer the same bytes.
SAMPLE_PATH=$(sed -n "$(((RELEASES + 1) / 2))p" "$WORK/paths.txt")
SAMPLE_KEY=${SAMPLE_PATH#/v1/releases/}
SAMPLE_KEY=${SAMPLE_KEY/\//:}
cmp -s <(curl -sf "http://127.0.0.1:$HTTP_PORT$SAMPLE_PATH") <(curl -sf "http://127.0.0.1:$NGINX_PORT$SAMPLE_PATH") ||
    die "nginx and release-chan differ on $SAMPLE_PATH"
[[ "$(curl -sf "http://127.0.0.1:$HTTP_PORT$SAMPLE_PATH")" == "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --raw get "$SAMPLE_KEY")" ]] ||
    die "Redis and release-chan differ on $SAMPLE_KEY"
cmp -s <(curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$HTTP_PORT/v1/releases") \
    <(curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$NGINX_PORT/v1/releases") ||
    die "nginx and release-chan differ on GET /v1/releases (gzip)"
curl -sfI -H 'Accept-Encoding: gzip' "http://127.0.0.1:$NGINX_PORT/v1/releases" | grep -qi '^content-encoding: gzip' ||
    die "nginx does not answer gzip_static"
log "all three serve the same bytes ($RELEASES releases; db $DB_BYTES bytes)"

# ---------------------------------------------------------------------------------------------------
# 4. Measurements

# ours_tcp NAME PIPELINE [extra release-chan-bench options...]
ours_tcp() {
    local name=$1 depth=$2
    shift 2
    timeout -k 5 "$LOAD_LIMIT" "$RCB" tcp --host 127.0.0.1 --port "$LOOKUP_TCP_PORT" --db "$LOOKUP_SERVED" --threads 1 \
        --connections "$CONNECTIONS" --pipeline "$depth" --duration "$DURATION" --warmup "$WARMUP" \
        --json --quiet "$@" >"$RAW/$name.json" 2>>"$LOGS/bench.log" || log "release-chan-bench $name failed"
}

# redis_rcb NAME PIPELINE [extra release-chan-bench options...]: release-chan-bench's redis mode against
# Redis, the same keys and options as ours_tcp.
redis_rcb() {
    local name=$1 depth=$2
    shift 2
    timeout -k 5 "$LOAD_LIMIT" "$RCB" redis --host 127.0.0.1 --port "$REDIS_PORT" --db "$LOOKUP_SERVED" --threads 1 \
        --connections "$CONNECTIONS" --pipeline "$depth" --duration "$DURATION" --warmup "$WARMUP" \
        --json --quiet "$@" >"$RAW/$name.json" 2>>"$LOGS/bench.log" || log "release-chan-bench redis $name failed"
}

# rcb_http NAME PORT [extra release-chan-bench options...]: release-chan-bench's http mode (the release
# paths of the served db, which nginx serves as files too).
rcb_http() {
    local name=$1 port=$2
    shift 2
    timeout -k 5 "$LOAD_LIMIT" "$RCB" http --host 127.0.0.1 --port "$port" --db "$SERVED" --threads 1 \
        --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" \
        --json --quiet "$@" >"$RAW/$name.json" 2>>"$LOGS/bench.log" || log "release-chan-bench http $name failed"
}

# redis_run PIPELINE REQUESTS: redis-benchmark GET over the copies of every release, CSV on stdout.
redis_run() {
    timeout -k 5 "$LOAD_LIMIT" redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$CONNECTIONS" -P "$1" \
        -n "$2" -r "$RELEASES" --csv GET 'k:__rand_int__' 2>>"$LOGS/redis-benchmark.log"
}

# redis_get NAME PIPELINE: redis-benchmark counts requests, not seconds: a short calibration run
# sizes the warm-up run to about WARMUP seconds, which sizes the measured run to about DURATION.
redis_get() {
    local name=$1 depth=$2 rate
    rate=$(redis_run "$depth" $((depth * 5000)) | awk -F'"' 'NR == 2 { print int($4) }')
    rate=$(redis_run "$depth" $((${rate:-10000} * WARMUP + 1000)) | awk -F'"' 'NR == 2 { print int($4) }')
    redis_run "$depth" $((${rate:-10000} * DURATION)) >"$RAW/$name.csv" || log "redis-benchmark $name failed"
}

# wrk_run NAME PORT PATH CONNECTIONS [wrk options...]: a warm-up run, then the measured one.
wrk_run() {
    local name=$1 port=$2 path=$3 connections=$4
    shift 4
    timeout -k 5 "$LOAD_LIMIT" wrk -t "$(nproc)" -c "$connections" -d "${WARMUP}s" -s "$HERE/wrk.lua" "$@" \
        "http://127.0.0.1:$port$path" >/dev/null 2>>"$LOGS/wrk.log" || true
    local before=0
    ((${#CPU_OF[@]})) && before=$(cpu_ticks "${CPU_OF[@]}")
    (
        status=0
        timeout -k 5 "$LOAD_LIMIT" wrk -t "$(nproc)" -c "$connections" -d "${DURATION}s" --latency -s "$HERE/wrk.lua" "$@" \
            "http://127.0.0.1:$port$path" >"$RAW/$name.json" 2>>"$LOGS/wrk.log" || status=$?
        # The second line is the CPU of this subshell's children: wrk's (and timeout's).
        times >"$RAW/$name.times"
        exit "$status"
    ) || log "wrk $name failed"
    if ((${#CPU_OF[@]})); then
        printf '{"server_ticks": %d, "clock_ticks_per_second": %d}\n' "$(($(cpu_ticks "${CPU_OF[@]}") - before))" "$(getconf CLK_TCK)" \
            >"$RAW/$name.cpu.json"
    fi
}

# cpu_ticks PID...: user and system CPU the processes (all their threads) have used so far, in clock ticks
# (/proc/PID/stat fields 14 and 15; the command name before them, in parentheses, is cut off first).
cpu_ticks() {
    local pid total=0 ticks
    for pid in "$@"; do
        ticks=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}
# The processes whose CPU wrk_run records (none unless set around a call).
CPU_OF=()

# warm_page_cache: reads the files of nginx's root that are on disk (`find` does not follow the link to
# the release files on tmpfs), and each server's whole db with gzip through a request, back into the page
# cache before the HTTP rows. Some machines page out file pages left unread for a minute (this machine
# kind runs DAMON reclaim: a release file read back from its disk cost 2.3 ms), so a cold cache would
# measure the disk, not the servers.
warm_page_cache() {
    find "$WWW" -type f -print0 | xargs -0 -n 512 -P 8 cat >/dev/null
    curl -sf -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$HTTP_PORT/v1/releases" || true
    curl -sf -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$NGINX_PORT/v1/releases" || true
}

# The open-loop rows' rate, as a share of the reference's closed-loop rps in the same round.
OPEN_LOOP_SHARE=0.33

# open_loop_pair WHAT REFERENCE_RESULT OURS_COMMAND REFERENCE_COMMAND: the two runs of an open-loop row,
# in this round's order, each command given `--rate` at OPEN_LOOP_SHARE × the rps in REFERENCE_RESULT.
# The closed loops load each server as hard as the client can, so the faster server also queues more
# requests and its p99 measures that load; at the same offered load (one client for both) the p99s
# compare the servers. Not more than a third: an open loop costs the load generator about twice the
# CPU per request of a closed one (a timer per request), and at half the rate it took a core of its own.
open_loop_pair() {
    local what=$1 result=$2 ours=$3 reference=$4 rate side
    rate=$(python3 "$HELPER" rate --fraction "$OPEN_LOOP_SHARE" "$result")
    if [[ -z $rate ]]; then
        log "round $round/$ROUNDS: no rps in $(basename "$result") to set the $what open loop's rate from; skipped"
        return
    fi
    log "round $round/$ROUNDS: $what open loop at $rate rps (${order/ /, then }): release-chan-bench against both"
    for side in $order; do
        # The commands are a function name and plain words: split on purpose.
        if [[ $side == ours ]]; then $ours --rate "$rate"; else $reference --rate "$rate"; fi
    done
}
export WRK_PATHS
# Odd rounds measure release-chan first, even rounds the reference first, so that a drift of the
# machine over a pair (a neighbour's load, frequency) does not always favour the same side.
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2 == 1)); then order="ours reference"; else order="reference ours"; fi
    for depth in 1 16; do
        log "round $round/$ROUNDS: TCP pipeline $depth (${order/ /, then }): release-chan-bench; redis-benchmark and release-chan-bench against Redis"
        for side in $order; do
            if [[ $side == ours ]]; then
                ours_tcp "tcp-p$depth-ours-r$round" "$depth"
            else
                redis_get "tcp-p$depth-redis-r$round" "$depth"
                redis_rcb "tcp-p$depth-redis-rcb-r$round" "$depth"
            fi
        done
    done
    open_loop_pair TCP "$RAW/tcp-p1-redis-rcb-r$round.json" "ours_tcp tcp-open-ours-r$round 1" "redis_rcb tcp-open-redis-r$round 1"
    log "round $round/$ROUNDS: HTTP single release and full db with gzip (${order/ /, then }): wrk against release-chan and nginx"
    warm_page_cache
    WRK_PATHS=$WORK/paths.txt
    for side in $order; do
        if [[ $side == ours ]]; then
            wrk_run "http-ours-r$round" "$HTTP_PORT" / "$CONNECTIONS"
        else
            wrk_run "http-nginx-r$round" "$NGINX_PORT" / "$CONNECTIONS"
        fi
    done
    open_loop_pair HTTP "$RAW/http-nginx-r$round.json" "rcb_http http-open-ours-r$round $HTTP_PORT" "rcb_http http-open-nginx-r$round $NGINX_PORT"
    WRK_PATHS=""
    warm_page_cache
    # wrk's reading of 3 MB responses bounds both servers' rps (benchmarks/README.md): each server's CPU
    # per response, and wrk's, are recorded beside it.
    for side in $order; do
        if [[ $side == ours ]]; then
            CPU_OF=("$SERVER_PID")
            wrk_run "gz-ours-r$round" "$HTTP_PORT" /v1/releases "$GZ_CONNECTIONS" -H 'Accept-Encoding: gzip'
        else
            mapfile -t CPU_OF < <(pgrep -P "$NGINX_PID")
            wrk_run "gz-nginx-r$round" "$NGINX_PORT" /v1/releases "$GZ_CONNECTIONS" -H 'Accept-Encoding: gzip'
        fi
        CPU_OF=()
    done
done

# Lookup latency while the db is reloaded every second, vs idle: closed loop, or open loop at RELOAD_RATE.
RATE_ARGS=()
RELOAD_LOAD="c$CONNECTIONS pipeline 1, closed loop"
if [[ -n ${RELOAD_RATE:-} ]]; then
    RATE_ARGS=(--rate "$RELOAD_RATE")
    RELOAD_LOAD="c$CONNECTIONS, open loop at $RELOAD_RATE rps"
fi

# reload_loop STOP_FILE: every second the other db (same keys, one release changed) takes the served
# path (a hard link renamed over it) and POST /v1/reload follows over a keep-alive connection (the file
# watch may get there first: either way one new revision per swap), until STOP_FILE exists. One line
# per swap in raw/reload-loop.log, one per answer in raw/reload-answers.log. One python process does
# it all: a `cp` of the file and a `curl` started every second had cost the lookups about as much p99
# as the reload itself (benchmarks/README.md).
reload_loop() {
    exec python3 "$HELPER" reload-loop --db "$LOOKUP_SERVED" --files "$DB_B" "$DB_A" --http-port "$LOOKUP_HTTP_PORT" \
        --stop "$1" --swaps "$RAW/reload-loop.log" --answers "$RAW/reload-answers.log"
}

: >"$RAW/reload-loop.log"
: >"$RAW/reload-answers.log"
# p99_with_reloads NAME: the lookup run while reload_loop swaps the db every second.
p99_with_reloads() {
    rm -f "$WORK/stop-reloads"
    reload_loop "$WORK/stop-reloads" &
    LOOP_PID=$!
    PIDS+=("$LOOP_PID")
    ours_tcp "$1" 1 "${RATE_ARGS[@]}"
    touch "$WORK/stop-reloads"
    timeout 15 tail --pid="$LOOP_PID" -f /dev/null || true
    stop "$LOOP_PID"
}

for ((round = 1; round <= ROUNDS; round++)); do
    # Alternated like the pairs above: idle first in odd rounds, under reloads first in even ones.
    if ((round % 2 == 1)); then
        log "round $round/$ROUNDS: TCP p99 ($RELOAD_LOAD): idle, then with a reload every second"
        ours_tcp "p99-idle-r$round" 1 "${RATE_ARGS[@]}"
        p99_with_reloads "p99-reload-r$round"
    else
        log "round $round/$ROUNDS: TCP p99 ($RELOAD_LOAD): with a reload every second, then idle"
        p99_with_reloads "p99-reload-r$round"
        ours_tcp "p99-idle-r$round" 1 "${RATE_ARGS[@]}"
    fi
done
SWAPS=$(wc -l <"$RAW/reload-loop.log")
FAILED=$(grep -c failed "$RAW/reload-answers.log" || true)
printf '{"swaps": %d, "failed_requests": %d}\n' "$SWAPS" "$FAILED" >"$RAW/reload-loop.json"
(($(curl -sf "http://127.0.0.1:$LOOKUP_HTTP_PORT/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reloads"]["failed"])') == 0)) ||
    log "warning: the server reports failed reloads (see $LOGS/release-chan.log)"

# File change -> served, -> SDK notified, -> SDK cached mode updated.
CACHED_NOTE=""
EXAMPLE_ARGS=()
if [[ ! -x $EXAMPLE ]]; then
    CACHED_NOTE="no release-chan-example binary (SDK example in cached mode) in $(dirname "$EXAMPLE")"
elif [[ $TCP_PORT != 8090 ]]; then
    CACHED_NOTE="TCP port 8090, which the SDK example hard-codes, was busy"
else
    EXAMPLE_ARGS=(--example-cmd "$EXAMPLE")
fi
log "file change latency: $CHANGE_TRIALS trials"
python3 "$HELPER" change-latency --db "$SERVED" --files "$DB_A" "$DB_B" --http-port "$HTTP_PORT" \
    --watch-cmd "$RC"$'\x1f'watch$'\x1f'--tcp$'\x1f'"127.0.0.1:$TCP_PORT" "${EXAMPLE_ARGS[@]}" \
    --trials "$CHANGE_TRIALS" --out "$RAW/change.json" >&2 || log "change latency failed"

log "stopping release-chan, Redis and nginx"
stop "$NGINX_PID"
stop "$REDIS_PID"
stop "$SERVER_PID"
stop "$LOOKUP_PID"

# The big db: reload time vs python json.loads; RSS vs file size.
BIG_A=$WORK/big-a.json
BIG_B=$WORK/big-b.json
BIG_SERVED=$WORK/big/db.json
log "generating two $BIG_CONTAINERS-container dbs (seeds 1 and 2)"
"$RC" db generate --containers "$BIG_CONTAINERS" --seed 1 --output "$BIG_A" 2>>"$LOGS/generate.log"
"$RC" db generate --containers "$BIG_CONTAINERS" --seed 2 --output "$BIG_B" 2>>"$LOGS/generate.log"
BIG_DB_BYTES=$(stat -c %s "$BIG_A")
cp "$BIG_A" "$BIG_SERVED"
read -r BIG_HTTP_PORT BIG_TCP_PORT <<<"$(python3 "$HELPER" free-ports 2)"
log "starting release-chan on the big db ($BIG_DB_BYTES bytes)"
start release-chan-big "$RC" serve --db "$BIG_SERVED" --host 127.0.0.1 --http-port "$BIG_HTTP_PORT" \
    --tcp-port "$BIG_TCP_PORT" --access-log false --log-level warning --watch false --reload-interval 3600s
BIG_PID=$STARTED_PID
wait_http "http://127.0.0.1:$BIG_HTTP_PORT/v1/health" "$BIG_PID" 600
wait_settled "$BIG_HTTP_PORT" "$BIG_PID" 300
sleep 2
RSS_START=$(rss_kib "$BIG_PID")
: >"$RAW/reload-ours.txt"
: >"$RAW/reload-python.txt"
for ((trial = 1; trial <= RELOAD_TRIALS; trial++)); do
    if ((trial % 2)); then source=$BIG_B; else source=$BIG_A; fi
    cp "$source" "$WORK/big/.reload.tmp"
    mv -f "$WORK/big/.reload.tmp" "$BIG_SERVED"
    response=$(timeout -k 5 320 curl -s -m 300 -X POST -w ' %{time_total}' "http://127.0.0.1:$BIG_HTTP_PORT/v1/reload")
    log "reload $trial/$RELOAD_TRIALS: $response"
    [[ $response == *'"changed":true'* ]] || die "reload $trial did not change the revision: $response"
    echo "${response##* }" >>"$RAW/reload-ours.txt"
    wait_settled "$BIG_HTTP_PORT" "$BIG_PID" 300
    timeout -k 5 300 python3 "$HELPER" time-json "$source" >>"$RAW/reload-python.txt"
done
sleep 2
RSS_RELOADS=$(rss_kib "$BIG_PID")
printf '{"after_start_kib": %d, "after_reloads_kib": %d}\n' "$RSS_START" "$RSS_RELOADS" >"$RAW/rss.json"
stop "$BIG_PID"

# ---------------------------------------------------------------------------------------------------
# 5. Report

BINARIES="$BIN_DIR"
case "$BIN_DIR" in
    */debug | */debug/) BINARIES="$BIN_DIR (DEBUG build: not representative)" ;;
esac
VERSIONS="$(redis-server --version | awk '{ print $1, $2, $3 }'); $("$NGINX" -v 2>&1); $(wrk --version 2>&1 | head -1 | awk '{ print $1, $2 }'); Python $(python3 -c 'import platform; print(platform.python_version())')"
export MODE DURATION WARMUP ROUNDS CONTAINERS BIG_CONTAINERS BIG_DB_BYTES DB_BYTES RELOAD_LOAD COMMAND_LINE \
    BINARIES VERSIONS CACHED_NOTE GZ_CONNECTIONS RELEASES OPEN_LOOP_SHARE
python3 - "$RAW/meta.json" <<'EOF'
import datetime, json, os, platform, sys
e = os.environ
cpu = "unknown cpu"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
meta = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "nproc": os.cpu_count(), "cpu": cpu, "kernel": "Linux " + platform.release(),
    "command": e["COMMAND_LINE"], "mode": e["MODE"], "duration": int(e["DURATION"]), "warmup": int(e["WARMUP"]),
    "rounds": int(e["ROUNDS"]), "containers": int(e["CONTAINERS"]), "releases": int(e["RELEASES"]),
    "db_bytes": int(e["DB_BYTES"]), "big_containers": int(e["BIG_CONTAINERS"]), "big_db_bytes": int(e["BIG_DB_BYTES"]),
    "reload_load": e["RELOAD_LOAD"], "gz_connections": int(e["GZ_CONNECTIONS"]),
    "open_loop_share": float(e["OPEN_LOOP_SHARE"]),
    "binaries": e["BINARIES"], "versions": e["VERSIONS"], "cached_note": e.get("CACHED_NOTE") or None,
    "notes": [
        "Ratios are release-chan ÷ reference. rps goals are ≥ 1.00× (higher is better); p99, reload time, RSS "
        "and change-latency goals are ≤ (lower is better). Goals are the ones of issue 4. With more than one "
        "round, \"rounds\" gives each round's ratio of the two runs made back to back (release-chan first in "
        "odd rounds, the reference first in even ones; idle first in odd rounds for the reload pair).",
        "Redis: redis-benchmark GET k:__rand_int__ (-r = number of releases) over copies of the same values; "
        "release-chan-bench draws the same releases uniformly. nginx: the same bytes as static files; "
        "wrk with benchmarks/compare/wrk.lua (uniform random release path) against both.",
        "Both driven by release-chan-bench: its redis mode sends GET container:channel to the same Redis, with the same "
        "keys, connections and pipeline depth as its tcp mode, so one client measures both servers. redis-benchmark "
        "writes a connection's next request one event-loop turn after reading the reply and starts its clock at that "
        "write; release-chan-bench writes at once, so more requests wait in the queues and its p99 is higher for "
        "the same server.",
        "Open loop: release-chan-bench sends at a fixed rate, " + e["OPEN_LOOP_SHARE"] + "× the reference's closed-loop rps in the same round "
        "(Redis's under release-chan-bench, nginx's under wrk), its connections' schedules spread evenly over one "
        "interval, and counts each latency from the request's intended send time (no coordinated omission). Both "
        "servers get the same offered load, so these p99s compare the servers, where the closed-loop rows also "
        "measure how much load each server was given.",
        "Full db, server CPU per response: each server's user and system time during the measured wrk run "
        "(/proc/PID/stat, all threads; nginx's workers summed) divided by the responses; wrk's own from bash's times. "
        "Server and wrk share the cores, so the rps row follows the sum of the two sides' CPU per response.",
        "Reload: wall time of POST /v1/reload (read, parse, validate, build, swap; the gzip form of the whole db follows the swap) after the other "
        "big db was renamed into place; python: read + json.loads of the same file in one process (start-up "
        "excluded). RSS: VmRSS from /proc.",
    ],
}
json.dump(meta, open(sys.argv[1], "w"), indent=2, ensure_ascii=False)
EOF
mkdir -p "$RESULTS_DIR"
python3 "$HELPER" report --raw "$RAW" --meta "$RAW/meta.json" --md-out "$RESULTS_DIR/latest.md" \
    --json-out "$RESULTS_DIR/latest.json"
log "done in $(($(date +%s) - STARTED)) s; written $RESULTS_DIR/latest.md and latest.json"
