#!/usr/bin/env bash
# check-registry-image.sh — refuse an image its registry does not have, before it reaches the db.
#
# The update workflow runs it when the repository variable RC_VERIFY_IMAGE is `true`: a typo in a
# dispatched image, or a build whose push failed, would otherwise be served as the channel's image and
# fail where it is pulled (docs/gitops-setup.md, section 5).
#
# Input (environment only):
#   RC_IMAGE             the image reference, e.g. ghcr.io/acme/my-app:v1.4.2[@sha256:…]
#   RC_DIGEST            optional: sha256:<64 hex> the image must have (the payload's digest)
#   RC_REGISTRY_USER     optional: user name for the registry's token service (default: token)
#   RC_REGISTRY_TOKEN    optional: password or token that can read the package (private images); without
#                        it the check asks for an anonymous pull token, which public images get
#   RC_REGISTRY_TIMEOUT  optional: seconds for each HTTP request (default 20)
#
# What it asks: the registry's manifest of the image's digest (when the image or RC_DIGEST names one)
# or else of its tag (`latest` when it names neither), with HEAD /v2/<name>/manifests/<reference>
# (the OCI distribution API), answering a 401 challenge through the token service it names (Bearer) or
# with basic auth. A registry named by host is reached over https; localhost and 127.0.0.1 over http,
# as Docker does. A name without a registry host is Docker Hub's (registry-1.docker.io, library/ for a
# single-component name). With a digest and a tag both given, the digest is looked up: the tag may have
# moved on since the build.
#
# Exit 0 the registry has it, 1 it does not (or refused access: named on stderr and in the job summary),
# 2 usage, 4 the registry could not be asked (network, timeout, an answer that is not the API's).
set -euo pipefail
export LC_ALL=C

fail() {
    local status="$1" message="$2"
    printf 'check-registry-image: %s\n' "$message" >&2
    local heading="image not in its registry"
    [[ "$status" == 1 ]] || heading="the image's registry could not be asked"
    if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        # The message quotes the image: inline code, its backticks replaced, so it renders as text.
        # shellcheck disable=SC2016 # the backticks are literal markdown
        printf '### release-chan db update: refused (%s)\n\n- `%s`\n' "$heading" "${message//\`/\'}" >>"$GITHUB_STEP_SUMMARY" || true
    fi
    exit "$status"
}

image="${RC_IMAGE:-}"
[[ -n "$image" ]] || fail 2 "RC_IMAGE is not set"
digest="${RC_DIGEST:-}"
timeout="${RC_REGISTRY_TIMEOUT:-20}"
[[ "$timeout" =~ ^[0-9]+$ && "$timeout" -ge 1 && "$timeout" -le 600 ]] || fail 2 "RC_REGISTRY_TIMEOUT must be whole seconds from 1 to 600, not '$timeout'"
[[ -z "$digest" || "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail 2 "RC_DIGEST '$digest' is not sha256:<64 hex>"

# --- The reference: [host/]name[:tag][@digest] --------------------------------------------------------
rest="$image"
image_digest=""
if [[ "$rest" == *@* ]]; then
    image_digest="${rest#*@}"
    rest="${rest%%@*}"
    [[ "$image_digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail 2 "the digest in '$image' is not sha256:<64 hex>"
fi
if [[ -n "$digest" && -n "$image_digest" && "$digest" != "$image_digest" ]]; then
    fail 1 "RC_DIGEST $digest is not the digest in '$image'"
fi
digest="${digest:-$image_digest}"
tag=""
last="${rest##*/}"
if [[ "$last" == *:* ]]; then
    tag="${last##*:}"
    rest="${rest%:*}"
fi
first="${rest%%/*}"
if [[ "$rest" == */* && ( "$first" == *.* || "$first" == *:* || "$first" == localhost ) ]]; then
    host="$first"
    name="${rest#*/}"
else
    host="docker.io"
    name="$rest"
fi
# Docker Hub, however it is named: its API is at registry-1.docker.io, and a one-part name is library/'s.
if [[ "$host" == docker.io || "$host" == index.docker.io || "$host" == registry-1.docker.io ]]; then
    host="registry-1.docker.io"
    [[ "$name" == */* ]] || name="library/$name"
fi
[[ -n "$name" && "$name" =~ ^[a-z0-9._/-]+$ ]] || fail 2 "'$image' has no repository name a registry can be asked for"
reference="${digest:-${tag:-latest}}"
# How the image is named in messages: name@digest or name:tag.
shown="$name$([[ -n "$digest" ]] && printf '@' || printf ':')$reference"
case "$host" in
    localhost | localhost:* | 127.0.0.1 | 127.0.0.1:*) scheme=http ;;
    *) scheme=https ;;
esac
url="$scheme://$host/v2/$name/manifests/$reference"

# Every manifest form a registry may hold for an image: OCI and Docker, single and multi-platform.
accept="application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

# head URL [curl options…]: HEAD the manifest; the status on stdout, the response head in $work/head.
head_manifest() {
    curl --silent --show-error --head --max-time "$timeout" --proto '=https,http' \
        --header "Accept: $accept" --dump-header "$work/head" --output /dev/null --write-out '%{http_code}' \
        "$@" "$url" 2>"$work/error" || {
        fail 4 "cannot ask $host for $shown: $(tr '\n' ' ' <"$work/error")"
    }
}

header() {
    # The value of a response header (case-insensitive name), CR removed.
    awk -v name="$1" '{ sub(/\r$/, "") } tolower(substr($0, 1, length(name) + 1)) == tolower(name) ":" { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$work/head"
}

# A parameter of a WWW-Authenticate challenge, e.g. realm="https://ghcr.io/token".
challenge_parameter() {
    local challenge="$1" parameter="$2"
    [[ "$challenge" =~ $parameter=\"([^\"]*)\" ]] && printf '%s' "${BASH_REMATCH[1]}"
}

status="$(head_manifest)" || exit $?
if [[ "$status" == 401 ]]; then
    challenge="$(header WWW-Authenticate)"
    user="${RC_REGISTRY_USER:-token}"
    token="${RC_REGISTRY_TOKEN:-}"
    case "$challenge" in
        [Bb]earer*)
            realm="$(challenge_parameter "$challenge" realm || true)"
            [[ "$realm" =~ ^https?:// ]] || fail 4 "$host asks for a token but names no token service: '$challenge'"
            service="$(challenge_parameter "$challenge" service || true)"
            query="scope=repository:$name:pull"
            [[ -n "$service" ]] && query="service=$service&$query"
            separator='?'
            [[ "$realm" == *\?* ]] && separator='&'
            credentials=()
            [[ -n "$token" ]] && credentials=(--user "$user:$token")
            code=0
            answer="$(curl --silent --show-error --max-time "$timeout" --proto '=https,http' --fail-with-body \
                "${credentials[@]}" "$realm$separator$query" 2>"$work/error")" || code=$?
            # 22: the token service answered with an HTTP error (a refusal); anything else is the network.
            if ((code == 22)); then
                fail 1 "$host's token service refused a pull token for $name ($(tr '\n' ' ' <"$work/error")${answer:+: ${answer:0:300}}); a private image needs RC_REGISTRY_TOKEN"
            elif ((code != 0)); then
                fail 4 "cannot ask $host's token service for a pull token for $name: $(tr '\n' ' ' <"$work/error")"
            fi
            bearer="$(jq -r '.token // .access_token // empty' <<<"$answer" 2>/dev/null || true)"
            [[ -n "$bearer" ]] || fail 4 "$host's token service answered without a token"
            status="$(head_manifest --header "Authorization: Bearer $bearer")" || exit $?
            ;;
        [Bb]asic*)
            [[ -n "$token" ]] || fail 1 "$host asks for a password to read $name; set RC_REGISTRY_TOKEN"
            status="$(head_manifest --user "$user:$token")" || exit $?
            ;;
        *)
            fail 4 "$host answered 401 without a challenge this script knows: '$challenge'"
            ;;
    esac
fi

case "$status" in
    200)
        served="$(header Docker-Content-Digest)"
        if [[ -n "$digest" && -n "$served" && "$served" != "$digest" ]]; then
            fail 1 "$host serves $shown as $served, not $digest"
        fi
        printf 'check-registry-image: %s has %s%s\n' "$host" "$shown" "${served:+ ($served)}"
        ;;
    404)
        fail 1 "$host has no image $shown (image '$image'): a typo, or a push that did not happen"
        ;;
    401 | 403)
        fail 1 "$host refused to show $shown (HTTP $status): a private image needs RC_REGISTRY_TOKEN with read access"
        ;;
    *)
        fail 4 "$host answered HTTP $status for $shown"
        ;;
esac
