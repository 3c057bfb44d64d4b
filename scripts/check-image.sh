#!/usr/bin/env bash
# Proves, without a container engine, what can be proven about the runtime image:
#
#   scripts/check-image.sh [BINARY]
#
# BINARY defaults to .build/release/release-chan, then .build/debug/release-chan (this script never
# builds). It assembles the image's runtime file set into an empty root directory: the binary, every
# shared library `ldd` lists, the dynamic loader, db/db.json at /app/db/db.json and an /etc/passwd and
# /etc/group with the service user 65532. It then starts `release-chan serve` in that root with chroot
# as uid/gid 65532 with no_new_privs, on free loopback ports, and checks health, readiness, a lookup,
# the served db, metrics, that nothing outside /tmp was written, and the graceful shutdown on SIGTERM
# (ready turns 503 during the drain delay, exit code 0). It prints what is covered and what is not.
#
# Must run as root (chroot). Needs: ldd, chroot (coreutils), setpriv (util-linux), curl, find, cmp.
#
# Environment:
#   CHECK_IMAGE_STARTUP_TIMEOUT=30        seconds to wait for /v1/health
#   CHECK_IMAGE_REQUIRE_STATIC_STDLIB=1   fail when the binary links the Swift runtime dynamically
#                                         (set it for a binary built with --static-swift-stdlib,
#                                         which is what the Dockerfile builds)
#   CHECK_IMAGE_KEEP=1                    keep the temporary root and logs (path is printed)
#
# Exit status: 0 when every check passed, 1 when one failed, 2 on a usage or environment problem.

set -euo pipefail

readonly SERVICE_UID=65532
readonly SERVICE_GID=65532
# glibc of the runtime base image (ubuntu:jammy).
readonly RUNTIME_GLIBC=2.35
# Libraries that ubuntu:jammy plus the runtime stage's packages provide (libc6, libstdc++6,
# libgcc-s1, zlib1g, and libcurl4 with its dependencies: FoundationNetworking, which `release-chan
# dispatch` uses, links libcurl). A library outside this list would be missing in the image. The
# libcurl names are the ones this machine's curl build pulls in; jammy's libcurl4 depends on the same
# packages (its SSH library differs: libssh instead of libssh2, an equivalent the image provides).
readonly RUNTIME_LIBS=" ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libdl.so.2 \
libpthread.so.0 librt.so.1 libutil.so.1 libresolv.so.2 libstdc++.so.6 libgcc_s.so.1 libz.so.1 \
libcurl.so.4 libnghttp2.so.14 libidn2.so.0 librtmp.so.1 libssh2.so.1 libssh.so.4 libpsl.so.5 libssl.so.3 \
libcrypto.so.3 libgssapi_krb5.so.2 libldap-2.5.so.0 liblber-2.5.so.0 libzstd.so.1 libbrotlidec.so.1 \
libbrotlicommon.so.1 libunistring.so.2 libgnutls.so.30 libhogweed.so.6 libnettle.so.8 libgmp.so.10 \
libkrb5.so.3 libk5crypto.so.3 libcom_err.so.2 libkrb5support.so.0 libsasl2.so.2 libp11-kit.so.0 \
libtasn1.so.6 libkeyutils.so.1 libffi.so.8 "

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_ROOT
readonly DB_FILE="$REPO_ROOT/db/db.json"

STARTUP_TIMEOUT=${CHECK_IMAGE_STARTUP_TIMEOUT:-30}
REQUIRE_STATIC=${CHECK_IMAGE_REQUIRE_STATIC_STDLIB:-0}
KEEP=${CHECK_IMAGE_KEEP:-0}

WORK=""
PID=""
FAILURES=0
PASSES=0

usage_error() {
    echo "check-image: $*" >&2
    exit 2
}

pass() {
    PASSES=$((PASSES + 1))
    echo "  PASS  $1"
}

fail() {
    FAILURES=$((FAILURES + 1))
    echo "  FAIL  $1" >&2
}

note() {
    echo "  note  $1"
}

cleanup() {
    local status=$?
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        local _
        for _ in $(seq 1 50); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$PID" 2>/dev/null; then
            kill -KILL "$PID" 2>/dev/null || true
        fi
        wait "$PID" 2>/dev/null || true
    fi
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ $KEEP == 1 ]]; then
            echo "check-image: kept $WORK"
        else
            rm -rf -- "$WORK"
        fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- inputs -----------------------------------------------------------------------------------------

if [[ $# -gt 1 ]]; then
    usage_error "usage: scripts/check-image.sh [BINARY]"
fi
if [[ $# -eq 1 ]]; then
    BINARY=$1
elif [[ -x $REPO_ROOT/.build/release/release-chan ]]; then
    BINARY=$REPO_ROOT/.build/release/release-chan
elif [[ -x $REPO_ROOT/.build/debug/release-chan ]]; then
    BINARY=$REPO_ROOT/.build/debug/release-chan
else
    usage_error "no binary: pass one, or build .build/release/release-chan first (swift build -c release --static-swift-stdlib --product release-chan)"
fi
[[ -f $BINARY && -x $BINARY ]] || usage_error "$BINARY is not an executable file"
[[ -f $DB_FILE ]] || usage_error "$DB_FILE is missing"
[[ $(id -u) -eq 0 ]] || usage_error "must run as root (chroot needs CAP_SYS_CHROOT)"
for tool in ldd chroot setpriv unshare mount sh curl find cmp sort; do
    command -v "$tool" >/dev/null 2>&1 || usage_error "missing tool: $tool"
done
[[ $STARTUP_TIMEOUT =~ ^[0-9]+$ ]] || usage_error "CHECK_IMAGE_STARTUP_TIMEOUT must be a whole number of seconds"

CHROOT_BIN=$(command -v chroot)
SETPRIV_BIN=$(command -v setpriv)
UNSHARE_BIN=$(command -v unshare)
SH_BIN=$(command -v sh)
readonly CHROOT_BIN SETPRIV_BIN UNSHARE_BIN SH_BIN

echo "check-image: binary $BINARY"

# --- 1. runtime file set ----------------------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-image.XXXXXX")
readonly ROOTFS="$WORK/rootfs"
mkdir -p "$ROOTFS/app/db" "$ROOTFS/etc" "$ROOTFS/tmp" "$ROOTFS/proc"

echo "check-image: assembling the runtime file set in $ROOTFS"
install -m 0755 "$BINARY" "$ROOTFS/app/release-chan"
install -m 0644 "$DB_FILE" "$ROOTFS/app/db/db.json"

LDD_OUTPUT=$(ldd "$BINARY" 2>&1 || true)
declare -a LIBRARIES=()
swift_runtime_libs=0
library_problem=0
if grep -Eq 'not a dynamic executable|statically linked' <<<"$LDD_OUTPUT"; then
    note "the binary is statically linked: no shared libraries to copy"
else
    while IFS= read -r line; do
        path=""
        if [[ $line =~ =\>\ not\ found ]]; then
            fail "ldd: ${line//[[:space:]]/ } (a library the binary needs is missing on this machine)"
            library_problem=1
            continue
        elif [[ $line =~ =\>\ (/[^[:space:]]+) ]]; then
            path=${BASH_REMATCH[1]}
        elif [[ $line =~ ^[[:space:]]*(/[^[:space:]]+) ]]; then
            path=${BASH_REMATCH[1]}    # the dynamic loader
        else
            continue                   # linux-vdso.so.1: provided by the kernel
        fi
        LIBRARIES+=("$path")
        mkdir -p "$ROOTFS$(dirname -- "$path")"
        cp -L -- "$path" "$ROOTFS$path"
        name=$(basename -- "$path")
        if [[ $name =~ ^lib(swift|Foundation|_Foundation|dispatch|BlocksRuntime) ]]; then
            swift_runtime_libs=$((swift_runtime_libs + 1))
        elif [[ $RUNTIME_LIBS != *" $name "* ]]; then
            fail "$name ($path) is not provided by ubuntu:jammy plus the runtime packages in the Dockerfile: add its package there and to RUNTIME_LIBS in this script"
            library_problem=1
        fi
    done <<<"$LDD_OUTPUT"
fi

echo "check-image: ${#LIBRARIES[@]} shared libraries (ldd):"
for path in "${LIBRARIES[@]}"; do
    echo "    $path"
done
if [[ $swift_runtime_libs -gt 0 ]]; then
    if [[ $REQUIRE_STATIC == 1 ]]; then
        fail "the binary links $swift_runtime_libs Swift runtime libraries dynamically; the image is built with --static-swift-stdlib"
        library_problem=1
    else
        note "this binary links $swift_runtime_libs Swift runtime libraries dynamically (built without --static-swift-stdlib);"
        note "they are copied into the root here; the image's binary has them linked in statically"
    fi
fi
if [[ $library_problem -eq 0 ]]; then
    pass "every shared library is one the runtime image provides (or the static Swift runtime replaces)"
fi

if command -v objdump >/dev/null 2>&1; then
    needed_glibc=$(objdump -T "$BINARY" 2>/dev/null | grep -Eo 'GLIBC_[0-9]+\.[0-9]+' | sed 's/GLIBC_//' | sort -uV | tail -n 1 || true)
    if [[ -n $needed_glibc ]]; then
        if [[ $(printf '%s\n%s\n' "$needed_glibc" "$RUNTIME_GLIBC" | sort -V | tail -n 1) == "$RUNTIME_GLIBC" ]]; then
            note "the binary needs glibc >= $needed_glibc; ubuntu:jammy has $RUNTIME_GLIBC"
        else
            note "this binary needs glibc >= $needed_glibc, newer than ubuntu:jammy's $RUNTIME_GLIBC: it was built on a newer"
            note "distribution than the image; the Dockerfile builds on jammy, so this concerns this local binary only"
        fi
    fi
fi

# The service user, as the image's runtime stage creates it.
cat >"$ROOTFS/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
nonroot:x:$SERVICE_UID:$SERVICE_GID:nonroot:/nonexistent:/usr/sbin/nologin
EOF
cat >"$ROOTFS/etc/group" <<EOF
root:x:0:
nonroot:x:$SERVICE_GID:
EOF

# Root-owned and read-only for the service user; /tmp is the only writable place (emptyDir in k8s).
chown -R 0:0 "$ROOTFS"
find "$ROOTFS" -type d -exec chmod 0755 {} +
chmod 1777 "$ROOTFS/tmp"

snapshot() {
    # path, type, size, mode, owner, mtime of every entry outside /tmp
    (cd "$ROOTFS" && find . \( -path ./tmp -o -path ./proc \) -prune -o -printf '%p %y %s %m %U:%G %T@\n' | sort)
}
snapshot >"$WORK/before.txt"
file_count=$(wc -l <"$WORK/before.txt")
pass "runtime file set assembled: binary, ${#LIBRARIES[@]} libraries, db/db.json, passwd/group ($file_count entries)"

# --- 2. start it ------------------------------------------------------------------------------------

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local port attempt
    for attempt in $(seq 1 100); do
        port=$((20000 + (RANDOM * 7 + attempt) % 40000))
        if ! port_in_use "$port" && [[ $port != "${1:-}" ]]; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

HTTP_PORT=$(free_port) || usage_error "no free loopback port found"
TCP_PORT=$(free_port "$HTTP_PORT") || usage_error "no free loopback port found"
readonly BASE_URL="http://127.0.0.1:$HTTP_PORT"
readonly DRAIN_DELAY_SECONDS=2

echo "check-image: starting release-chan in the chroot as $SERVICE_UID:$SERVICE_GID (http $HTTP_PORT, tcp $TCP_PORT)"
# A private mount namespace holds the one mount a container runtime always provides and the Swift
# runtime needs (it reads its arguments from /proc/self/cmdline): /proc. The mount disappears with the
# namespace, so the host sees none. `sh -c … exec` keeps the PID: unshare, sh, setpriv and chroot
# all exec into the next one, so $! is release-chan itself.
# shellcheck disable=SC2016 # $1 and $@ belong to the inner sh
env -i PATH=/usr/bin:/bin HOME=/nonexistent RELEASE_CHAN_ACCESS_LOG=false RELEASE_CHAN_LOG_LEVEL=info \
    "$UNSHARE_BIN" --mount --propagation private -- \
    "$SH_BIN" -c 'mount -t proc -o nosuid,nodev,noexec proc "$1/proc" && shift && exec "$@"' sh "$ROOTFS" \
    "$SETPRIV_BIN" --no-new-privs \
    "$CHROOT_BIN" --userspec="$SERVICE_UID:$SERVICE_GID" --groups="$SERVICE_GID" "$ROOTFS" \
    /app/release-chan serve --db /app/db/db.json --host 127.0.0.1 \
    --http-port "$HTTP_PORT" --tcp-port "$TCP_PORT" \
    --drain-delay "${DRAIN_DELAY_SECONDS}s" --shutdown-timeout 5s \
    >"$WORK/stdout.log" 2>"$WORK/stderr.log" &
PID=$!

show_logs() {
    echo "---- stderr of release-chan (last 40 lines) ----" >&2
    tail -n 40 "$WORK/stderr.log" >&2 || true
    echo "------------------------------------------------" >&2
}

# http_get PATH [curl args...]: prints the status code, body to $WORK/body
http_get() {
    local path=$1
    shift
    curl --silent --show-error --max-time 5 --output "$WORK/body" --write-out '%{http_code}' "$@" "$BASE_URL$path" 2>/dev/null || echo "000"
}

healthy=0
deadline=$((SECONDS + STARTUP_TIMEOUT))
while [[ $SECONDS -lt $deadline ]]; do
    if ! kill -0 "$PID" 2>/dev/null; then
        break
    fi
    if [[ $(http_get /v1/health) == 200 ]]; then
        healthy=1
        break
    fi
    sleep 0.2
done

if [[ $healthy -ne 1 ]]; then
    if kill -0 "$PID" 2>/dev/null; then
        fail "GET /v1/health did not answer 200 within ${STARTUP_TIMEOUT}s"
    else
        set +e
        wait "$PID"
        code=$?
        set -e
        PID=""
        fail "release-chan exited with status $code before /v1/health answered"
    fi
    show_logs
    echo "check-image: $PASSES passed, $FAILURES failed"
    exit 1
fi

# --- 3. checks while serving ------------------------------------------------------------------------

if grep -q '"status":"ok"' "$WORK/body"; then
    pass "GET /v1/health = 200, status ok (started from the root file set alone)"
else
    fail "GET /v1/health = 200 but the status is not ok: $(head -c 300 "$WORK/body")"
fi

status=$(http_get /v1/ready)
if [[ $status == 200 ]]; then
    pass "GET /v1/ready = 200"
else
    fail "GET /v1/ready = $status (expected 200)"
fi

status=$(http_get '/v1/releases?container=my-app')
if [[ $status == 200 ]] && grep -q '"container":"my-app"' "$WORK/body"; then
    pass "GET /v1/releases?container=my-app = 200 from the baked db"
else
    fail "GET /v1/releases?container=my-app = $status: $(head -c 300 "$WORK/body")"
fi

status=$(http_get /v1/releases)
if [[ $status == 200 ]] && cmp -s "$WORK/body" "$DB_FILE"; then
    pass "GET /v1/releases = 200 and byte-identical to the baked db/db.json"
elif [[ $status == 200 ]]; then
    fail "GET /v1/releases = 200 but differs from db/db.json (is db/db.json canonical? release-chan db fmt --check)"
else
    fail "GET /v1/releases = $status (expected 200)"
fi

status=$(http_get /metrics)
if [[ $status == 200 ]] && grep -q '^release_chan_' "$WORK/body"; then
    pass "GET /metrics = 200 with release_chan_* series"
else
    fail "GET /metrics = $status (expected 200 with release_chan_* series)"
fi

# Credentials of the running process, as the kernel sees them.
proc_status=/proc/$PID/status
if [[ -r $proc_status ]]; then
    uid_line=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$proc_status")
    gid_line=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "$proc_status")
    groups_line=$(awk '/^Groups:/ {$1=""; print $0}' "$proc_status" | xargs)
    cap_eff=$(awk '/^CapEff:/ {print $2}' "$proc_status")
    cap_prm=$(awk '/^CapPrm:/ {print $2}' "$proc_status")
    nnp=$(awk '/^NoNewPrivs:/ {print $2}' "$proc_status")
    expected_ids="$SERVICE_UID $SERVICE_UID $SERVICE_UID $SERVICE_UID"
    expected_gids="$SERVICE_GID $SERVICE_GID $SERVICE_GID $SERVICE_GID"
    if [[ $uid_line == "$expected_ids" && $gid_line == "$expected_gids" && $groups_line == "$SERVICE_GID" \
        && $cap_eff =~ ^0+$ && $cap_prm =~ ^0+$ && $nnp == 1 ]]; then
        pass "process runs as uid/gid $SERVICE_UID, no capabilities (CapEff/CapPrm 0), no_new_privs set"
    else
        fail "process credentials: Uid $uid_line, Gid $gid_line, Groups '$groups_line', CapEff $cap_eff, CapPrm $cap_prm, NoNewPrivs $nnp"
    fi
    if [[ $(readlink "/proc/$PID/root") == "$ROOTFS" ]]; then
        pass "process root directory is the assembled root (chroot)"
    else
        fail "process root is $(readlink "/proc/$PID/root"), not $ROOTFS"
    fi
else
    fail "cannot read $proc_status"
fi

# The binary protocol, through the CLI's SDK client running outside the chroot.
if lookup=$("$BINARY" query --tcp "127.0.0.1:$TCP_PORT" --timeout 5 my-app dev 2>&1) && [[ -n "$lookup" ]]; then
    pass "TCP lookup protocol: my-app on dev is $lookup"
else
    fail "TCP lookup protocol on port $TCP_PORT: $lookup"
    show_logs
fi

# --- 4. graceful shutdown ---------------------------------------------------------------------------

echo "check-image: sending SIGTERM to $PID"
kill -TERM "$PID"
saw_draining=0
drain_deadline=$((SECONDS + DRAIN_DELAY_SECONDS))
while [[ $SECONDS -le $drain_deadline ]]; do
    ready=$(http_get /v1/ready --max-time 1)
    if [[ $ready == 503 ]]; then
        saw_draining=1
        health_during_drain=$(http_get /v1/health --max-time 1)
        break
    fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if [[ $saw_draining -eq 1 ]]; then
    if [[ ${health_during_drain:-} == 200 ]]; then
        pass "after SIGTERM: /v1/ready = 503 during the drain delay while /v1/health stays 200"
    else
        fail "after SIGTERM: /v1/ready = 503 but /v1/health = ${health_during_drain:-none} during the drain delay"
    fi
else
    fail "after SIGTERM: /v1/ready never answered 503 during the ${DRAIN_DELAY_SECONDS}s drain delay"
fi

exit_deadline=$((SECONDS + DRAIN_DELAY_SECONDS + 5 + 10))
while kill -0 "$PID" 2>/dev/null && [[ $SECONDS -lt $exit_deadline ]]; do
    sleep 0.1
done
if kill -0 "$PID" 2>/dev/null; then
    fail "still running $((DRAIN_DELAY_SECONDS + 15))s after SIGTERM (drain ${DRAIN_DELAY_SECONDS}s + shutdown timeout 5s)"
    show_logs
else
    set +e
    wait "$PID"
    exit_code=$?
    set -e
    PID=""
    if [[ $exit_code -eq 0 ]]; then
        pass "SIGTERM: exited with status 0"
    else
        fail "SIGTERM: exited with status $exit_code (expected 0)"
        show_logs
    fi
fi

# --- 5. nothing written outside /tmp ----------------------------------------------------------------

snapshot >"$WORK/after.txt"
if cmp -s "$WORK/before.txt" "$WORK/after.txt"; then
    pass "no file outside /tmp was created, changed or removed (read-only root filesystem is enough)"
else
    fail "the root file set changed outside /tmp:"
    diff "$WORK/before.txt" "$WORK/after.txt" >&2 || true
fi
tmp_entries=$(find "$ROOTFS/tmp" -mindepth 1 | wc -l)
note "/tmp holds $tmp_entries entries after the run (an emptyDir in Kubernetes)"
if grep -Eiq 'read-only file system|permission denied' "$WORK/stderr.log"; then
    fail "the log mentions a denied write:"
    grep -Ei 'read-only file system|permission denied' "$WORK/stderr.log" >&2 || true
fi

# --- summary ----------------------------------------------------------------------------------------

cat <<EOF

check-image: what this check covers (see PASS/FAIL above for this run)
  - the runtime file set: binary + ldd's libraries + loader + /app/db/db.json (+ /proc, which every
    container runtime mounts and the Swift runtime reads its arguments from) is all the server needs
    to start, serve, answer lookups and shut down (no other file of a base image is used)
  - every dynamic library is one ubuntu:jammy (+ the Dockerfile's runtime packages) provides
  - runs as uid/gid $SERVICE_UID without capabilities, with no_new_privs, and writes nothing outside /tmp
  - /v1/health, /v1/ready, /v1/releases (lookup and whole db), /metrics on loopback ports
  - a lookup over the binary TCP protocol (HELLO + GET through the SDK of release-chan query)
  - graceful shutdown: SIGTERM -> /v1/ready 503 for the drain delay -> exit 0
check-image: what it does not cover
  - the image itself: no Dockerfile build, no layers, no base image pull, no registry push or pull
  - the static Swift runtime of the image's binary unless CHECK_IMAGE_REQUIRE_STATIC_STDLIB=1 and the
    binary was built with --static-swift-stdlib; libraries loaded with dlopen (ldd cannot see them)
  - the ubuntu:jammy userland (glibc 2.35 of the image vs. this machine's), apt packages, OCI labels,
    USER/ENTRYPOINT/CMD/WORKDIR of the image (hadolint lints the Dockerfile; it does not run it)
  - namespaces and cgroups of a container runtime, seccomp, the Kubernetes probes and securityContext
    (scripts/validate-deployment.sh validates the manifests offline)

check-image: $PASSES passed, $FAILURES failed
EOF

if [[ $FAILURES -ne 0 ]]; then
    exit 1
fi
