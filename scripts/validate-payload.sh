#!/usr/bin/env bash
# validate-payload.sh — refuse a malformed release-channel update before anything is touched.
#
# Input (environment only):
#   EVENT_TYPE           the repository_dispatch event type (github.event.action)
#   PAYLOAD_JSON         the raw client_payload as JSON (toJSON(github.event.client_payload))
#   EXPECTED_EVENT_TYPE  optional: the event type must equal it
#   DEFAULT_ACTOR        optional: used as actor when the payload carries none (e.g. github.actor)
#   RC_DB                optional: db file whose "channels" the channel must be one of (default db/db.json;
#                        skipped when the file is missing or unreadable: the CLI checks again)
#
# Checks: event type <= 100 chars and ^[a-z0-9][a-z0-9._-]*$; client_payload is an object with at most
# 10 top-level keys, only container, channel, image, digest, repository, sha, ref, run_id, actor; every
# value a string (run_id: integer or digit string) of at most 512 bytes without control characters;
# container, channel and image present; each value by the db rules of docs/db-format.md (the CLI stays
# the authority; these checks refuse garbage early), and no bidirectional text controls in ref nor a
# repository named "." or "..". An empty string counts as absent for optional keys.
#
# Output on success: RC_CONTAINER, RC_CHANNEL, RC_IMAGE, RC_DIGEST, RC_SOURCE_REPOSITORY, RC_SOURCE_SHA,
# RC_SOURCE_REF, RC_RUN_ID, RC_ACTOR appended to "$GITHUB_ENV" and the lower-case payload names
# (container, channel, image, digest, repository, sha, ref, run_id, actor) to "$GITHUB_OUTPUT", each in
# the multi-line `NAME<<DELIMITER` form with a random delimiter; when neither file is set, NAME=value
# lines on stdout. Exit 0 valid, 1 refused (reasons on stderr and in the job summary), 2 usage.
set -euo pipefail
export LC_ALL=C

readonly MAX_EVENT_TYPE=100
readonly MAX_PAYLOAD_BYTES=65536

refuse() {
    local reason
    for reason in "$@"; do printf 'validate-payload: refused: %s\n' "$reason" >&2; done
    if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        # Reasons quote payload text (a key named `[x](https://…)` would render as a link): each is
        # one line of inline code, its backticks replaced.
        {
            printf '### release-chan db update: refused (invalid payload)\n\n'
            for reason in "$@"; do
                reason="${reason//$'\n'/ }"
                # shellcheck disable=SC2016 # the backticks are literal markdown
                printf -- '- `%s`\n' "${reason//\`/\'}"
            done
        } >>"$GITHUB_STEP_SUMMARY" || true
    fi
    exit 1
}

command -v jq >/dev/null 2>&1 || { echo "validate-payload: jq is required" >&2; exit 2; }

event_type="${EVENT_TYPE-}"
payload="${PAYLOAD_JSON-}"

# --- event type --------------------------------------------------------------------------------
if [[ -z "$event_type" ]]; then
    refuse "event type is empty"
elif ((${#event_type} > MAX_EVENT_TYPE)); then
    refuse "event type is ${#event_type} chars long (max $MAX_EVENT_TYPE)"
elif ! [[ "$event_type" =~ ^[a-z0-9][a-z0-9._-]*$ ]]; then
    refuse "event type must match ^[a-z0-9][a-z0-9._-]*\$"
elif [[ -n "${EXPECTED_EVENT_TYPE:-}" && "$event_type" != "$EXPECTED_EVENT_TYPE" ]]; then
    refuse "event type \"$event_type\" is not \"$EXPECTED_EVENT_TYPE\""
fi

# --- payload ------------------------------------------------------------------------------------
((${#payload} <= MAX_PAYLOAD_BYTES)) || refuse "client_payload is ${#payload} bytes (max $MAX_PAYLOAD_BYTES)"
[[ -n "$payload" ]] || refuse "client_payload is missing"
documents=$(jq -n '[inputs] | length' 2>/dev/null <<<"$payload") || refuse "client_payload is not valid JSON"
[[ "$documents" == 1 ]] || refuse "client_payload must be one JSON value (got $documents)"

channels_json='null'
db="${RC_DB:-db/db.json}"
if [[ -f "$db" ]]; then
    channels_json=$(jq -c 'if (.channels | type) == "array" then .channels else null end' -- "$db" 2>/dev/null) ||
        channels_json='null'
fi

# The jq program prints one refusal reason per line; no output means the payload is valid.
# Key names and values in messages are JSON-encoded and cut short (they may be hostile).
# shellcheck disable=SC2016 # $names are jq variables
validate_program='
def allowed($k): ["container","channel","image","digest","repository","sha","ref","run_id","actor"] | any(. == $k);
def show: tojson | if length > 80 then .[0:77] + "…\"" else . end;
def dns_label: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
def login: "^[A-Za-z0-9][A-Za-z0-9-]{0,38}";
def has_ctrl: explode | any(. < 32 or (. >= 127 and . < 160));
# bidirectional embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069): text that reads
# differently than it is
def has_bidi: explode | any((. >= 8234 and . <= 8238) or (. >= 8294 and . <= 8297));
# GitHub reserves the repository names "." and ".."
def dot_name: split("/")[1] | . == "." or . == "..";
# image reference per docs/db-format.md (distribution reference grammar; only sha256 digests)
def image_ok:
  (capture("^(?<name>((\\[[0-9A-Fa-f:.]+\\]|[^/:@\\[]+)(:[0-9]+)?/)?[^:@\\[]+)(:(?<tag>[^:@/]+))?(@(?<digest>.+))?$") // null) as $m
  | if $m == null then false else
      ($m.name | split("/")) as $parts
      | (($parts | length) > 1 and ($parts[0] | test("[.:]") or . == "localhost")) as $has_domain
      | (if $has_domain then $parts[1:] else $parts end) as $path
      | ($m.name | length) <= 255
        and (if $has_domain then
               $parts[0] | test("^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(\\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\\[[0-9A-Fa-f:.]+\\])(:[0-9]+)?$")
             else true end)
        and ($path | length) > 0
        and ($path | all(test("^[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*$")))
        and ($m.tag == null or ($m.tag | test("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")))
        and ($m.digest == null or ($m.digest | test("^sha256:[0-9a-f]{64}$")))
    end;
def rule($k):
  if   $k == "container"  then (test(dns_label) and length <= 63)
  elif $k == "channel"    then (test(dns_label) and length <= 63
                                and ($channels == null or (. as $c | $channels | any(. == $c))))
  elif $k == "image"      then image_ok
  elif $k == "digest"     then test("^sha256:[0-9a-f]{64}$")
  elif $k == "repository" then (test(login + "/[A-Za-z0-9._-]{1,100}$") and (dot_name | not))
  elif $k == "sha"        then test("^[0-9a-f]{40}$")
  elif $k == "ref"        then (startswith("refs/") and length >= 6 and length <= 255 and (has_bidi | not)
                                and (test("[\\s~^:?*\\[\\\\]") | not) and (contains("..") | not))
  elif $k == "run_id"     then (test("^[1-9][0-9]{0,15}$") and tonumber <= 9007199254740991)
  elif $k == "actor"      then test(login + "(\\[bot\\])?$")
  else false end;
def explain($k):
  if $k == "channel" and $channels != null and test(dns_label)
  then "channel \(show) is not one of \($channels | join(", "))"
  elif $k == "ref" and has_bidi
  then "ref contains a bidirectional text control character (U+202A-U+202E, U+2066-U+2069)"
  elif $k == "repository" and test(login + "/[A-Za-z0-9._-]{1,100}$") and dot_name
  then "repository \(show) is not a valid repository: the name must not be \".\" or \"..\""
  else "\($k) \(show) is not a valid \($k) (see docs/db-format.md)" end;

. as $p |
if type != "object" then "client_payload must be a JSON object, got \(type)"
else
  (if length > 10 then "client_payload has \(length) top-level keys (max 10)" else empty end),
  (keys_unsorted[] | select(allowed(.) | not) | "unknown key \(show)"),
  (["container","channel","image"][] as $k
    | select((has($k) | not) or .[$k] == "" or .[$k] == null) | "\($k) is required"),
  (to_entries[] | select(allowed(.key)) | select(.value != "" and .value != null)
    | .key as $k | .value as $v
    | if $k == "run_id" and ($v | type) == "number" then
        (if ($v | floor) != $v or $v < 1 or $v > 9007199254740991
         then "run_id \($v) must be an integer 1..9007199254740991" else empty end)
      elif ($v | type) != "string" then "\($k) must be a string, got \($v | type)"
      elif ($v | utf8bytelength) > 512 then "\($k) is \($v | utf8bytelength) bytes long (max 512)"
      elif ($v | has_ctrl) then "\($k) contains a newline or control character"
      elif ($v | rule($k) | not) then ($v | explain($k))
      else empty end),
  (select((.image | type) == "string" and (.digest | type) == "string" and .digest != ""
          and (.image | test("@sha256:")) and (.image | endswith("@" + $p.digest) | not))
   | "digest does not match the digest in image")
end
'

reasons=$(jq -r --argjson channels "$channels_json" "$validate_program" <<<"$payload" 2>&1) ||
    refuse "client_payload could not be checked: $reasons"
if [[ -n "$reasons" ]]; then
    mapfile -t reason_list <<<"$reasons"
    refuse "${reason_list[@]}"
fi

# --- actor fallback -----------------------------------------------------------------------------
default_actor="${DEFAULT_ACTOR:-}"
if [[ -n "$default_actor" ]] && ! [[ "$default_actor" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$ ]]; then
    default_actor="" # not a valid login: record no actor rather than refuse the update
fi

# --- emit ---------------------------------------------------------------------------------------
# Normalised values: run_id as a digit string; empty optional values dropped.
pairs=(container:RC_CONTAINER channel:RC_CHANNEL image:RC_IMAGE digest:RC_DIGEST
    repository:RC_SOURCE_REPOSITORY sha:RC_SOURCE_SHA ref:RC_SOURCE_REF run_id:RC_RUN_ID actor:RC_ACTOR)

delimiter="RC_EOF_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# emit FILE NAME VALUE — append NAME<<DELIM / VALUE / DELIM (values are single-line; delimiter random).
emit() {
    [[ "$3" != "$delimiter" ]] || refuse "value collides with the output delimiter"
    printf '%s<<%s\n%s\n%s\n' "$2" "$delimiter" "$3" "$delimiter" >>"$1"
}

for pair in "${pairs[@]}"; do
    key="${pair%%:*}" env_name="${pair#*:}"
    value=$(jq -r --arg k "$key" '.[$k] // "" | if type == "number" then tostring else . end' <<<"$payload")
    if [[ "$key" == actor && -z "$value" ]]; then value="$default_actor"; fi
    if [[ -n "${GITHUB_ENV:-}" ]]; then emit "$GITHUB_ENV" "$env_name" "$value"; fi
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then emit "$GITHUB_OUTPUT" "$key" "$value"; fi
    if [[ -z "${GITHUB_ENV:-}" && -z "${GITHUB_OUTPUT:-}" ]]; then printf '%s=%s\n' "$env_name" "$value"; fi
done

printf 'validate-payload: ok: %s\n' \
    "$(jq -r '"\(.container)/\(.channel) -> \(.image)"' <<<"$payload")"
