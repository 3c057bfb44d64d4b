#!/usr/bin/env bash
# test-dispatch.sh — send one release-channel update to release-chan by hand, as a source repo would.
#
#   test-dispatch.sh TOKEN CONTAINER CHANNEL IMAGE
#   test-dispatch.sh - my-app dev ghcr.io/acme/my-app:v1.0.0 <token.txt     (TOKEN "-": read from stdin)
#
# Environment:
#   RC_REPOSITORY   OWNER/NAME of the release-chan repository (default: parsed from `git remote
#                   get-url origin` when it points at GitHub)
#   GITHUB_API_URL  API root (default https://api.github.com; tests point it at a local listener)
#   RC_CHANNELS     allowed channels, space or comma separated (default "dev stage prod")
#   RC_EVENT_TYPE   event type (default release-channel-update)
#   RC_DIGEST, RC_SOURCE_REPOSITORY, RC_SOURCE_SHA, RC_SOURCE_REF, RC_RUN_ID, RC_ACTOR
#                   optional payload fields (digest, repository, sha, ref, run_id, actor)
#
# Prints the HTTP status. Exit 0 on 204; 1 invalid input; 2 usage; 3 any other HTTP status (the
# response body is printed); 4 the request could not be sent.
# scripts/setup-gitops.sh writes this file unchanged as ./test-dispatch.sh.
set -euo pipefail
export LC_ALL=C

usage() {
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
fail() {
    printf 'test-dispatch: %s\n' "$*" >&2
    exit 1
}

(($# == 4)) || usage
token="$1" container="$2" channel="$3" image="$4"
if [[ "$token" == - ]]; then
    IFS= read -r token || true
fi
token="${token%$'\r'}" # a token file saved with CRLF line endings
[[ -n "$token" ]] || fail "TOKEN is empty"

command -v curl >/dev/null 2>&1 || fail "curl is required"
command -v jq >/dev/null 2>&1 || fail "jq is required"

api="${GITHUB_API_URL:-https://api.github.com}"
api="${api%/}"
event_type="${RC_EVENT_TYPE:-release-channel-update}"
channels="${RC_CHANNELS:-dev stage prod}"
channels="${channels//,/ }"

repository="${RC_REPOSITORY:-}"
if [[ -z "$repository" ]]; then
    origin=$(git remote get-url origin 2>/dev/null || true)
    if [[ "$origin" =~ github\.com[:/]([^/]+/[^/]+)$ ]]; then
        repository="${BASH_REMATCH[1]%.git}"
    fi
fi
[[ -n "$repository" ]] || fail "set RC_REPOSITORY=OWNER/NAME (the release-chan repository)"

# --- local validation (the same rules as the db; the workflow checks again) ----------------------
for value in "$token" "$container" "$channel" "$image" "$repository" "$event_type" \
    "${RC_DIGEST:-}" "${RC_SOURCE_REPOSITORY:-}" "${RC_SOURCE_SHA:-}" "${RC_SOURCE_REF:-}" \
    "${RC_RUN_ID:-}" "${RC_ACTOR:-}"; do
    [[ "$value" != *[[:cntrl:]]* ]] || fail "arguments and RC_* values must not contain control characters"
done
[[ "$repository" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$ &&
    "${repository#*/}" != . && "${repository#*/}" != .. ]] ||
    fail "RC_REPOSITORY must be OWNER/NAME, got \"$repository\""
if ! [[ "$event_type" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || ((${#event_type} > 100)); then
    fail "invalid event type \"$event_type\""
fi
if ! [[ "$container" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || ((${#container} > 63)); then
    fail "invalid container \"$container\": lowercase DNS label (a-z, 0-9, '-'), at most 63 chars"
fi
known=0
for c in $channels; do [[ "$c" != "$channel" ]] || known=1; done
((known)) || fail "unknown channel \"$channel\": expected one of: $channels (set RC_CHANNELS to change)"
# Basic shape: [domain[:port]/]path[:tag][@sha256:digest], lowercase path; the workflow checks fully.
image_re='^([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$'
if ! [[ "$image" =~ $image_re ]] || ((${#image} > 512)); then
    fail "invalid image reference \"$image\" (e.g. ghcr.io/acme/my-app:v1.0.0)"
fi
[[ -z "${RC_DIGEST:-}" || "$RC_DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "RC_DIGEST must be sha256:<64 hex>"
[[ -z "${RC_RUN_ID:-}" || "$RC_RUN_ID" =~ ^[1-9][0-9]{0,15}$ ]] || fail "RC_RUN_ID must be a positive integer"

# --- request -------------------------------------------------------------------------------------
body=$(jq -nc \
    --arg event_type "$event_type" --arg container "$container" --arg channel "$channel" \
    --arg image "$image" --arg digest "${RC_DIGEST:-}" --arg repository "${RC_SOURCE_REPOSITORY:-}" \
    --arg sha "${RC_SOURCE_SHA:-}" --arg ref "${RC_SOURCE_REF:-}" --arg run_id "${RC_RUN_ID:-}" \
    --arg actor "${RC_ACTOR:-}" \
    '{event_type: $event_type,
      client_payload: ({container: $container, channel: $channel, image: $image}
        + ({digest: $digest, repository: $repository, sha: $sha, ref: $ref, actor: $actor}
           | with_entries(select(.value != "")))
        + (if $run_id != "" then {run_id: ($run_id | tonumber)} else {} end))}')

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
# The token goes to curl through a private header file, not the command line.
(umask 077 && printf 'Authorization: Bearer %s\n' "$token" >"$workdir/headers")

url="$api/repos/$repository/dispatches"
printf 'POST %s\n' "$url"
if ! status=$(curl -sS -o "$workdir/response" -w '%{http_code}' -X POST \
    -H "@$workdir/headers" \
    -H 'Accept: application/vnd.github+json' \
    -H 'X-GitHub-Api-Version: 2022-11-28' \
    -H 'Content-Type: application/json' \
    --data-binary "$body" "$url"); then
    printf 'test-dispatch: request failed (HTTP %s)\n' "${status:-000}" >&2
    exit 4
fi

printf 'HTTP %s\n' "$status"
if [[ "$status" == 204 ]]; then
    printf 'sent: %s/%s -> %s (event %s to %s)\n' "$container" "$channel" "$image" "$event_type" "$repository"
    exit 0
fi
printf 'test-dispatch: expected HTTP 204, got %s\n' "$status" >&2
cat "$workdir/response" >&2 || true
echo >&2
exit 3
