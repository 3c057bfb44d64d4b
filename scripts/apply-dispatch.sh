#!/usr/bin/env bash
# apply-dispatch.sh — apply one release-channel update to the db and push it.
#
# Run from the root of a git clone of this repository (the workflow's checkout, or any clone in a
# test). The update is read from environment variables only; nothing is ever eval'ed.
#
# Payload (validated by scripts/validate-payload.sh in the workflow, checked again here):
#   RC_CONTAINER, RC_CHANNEL, RC_IMAGE                 required
#   RC_DIGEST, RC_SOURCE_REPOSITORY, RC_SOURCE_SHA,
#   RC_SOURCE_REF, RC_RUN_ID, RC_ACTOR                 optional (empty = absent)
# Configuration:
#   RELEASE_CHAN_BIN      CLI to run (default: release-chan on PATH)
#   RC_DB                 db file inside the clone (default: db/db.json)
#   RC_REMOTE, RC_BRANCH  where to push (default: origin, main)
#   RC_MAX_ATTEMPTS       push attempts before giving up (default: 8)
#   RC_BACKOFF_BASE       first retry delay in seconds (default: 0.2; doubles per attempt, jittered)
#   RC_BACKOFF_CAP        longest retry delay in seconds (default: 5)
#   RC_GIT_AUTHOR_NAME, RC_GIT_AUTHOR_EMAIL   commit identity (default: github-actions[bot], as publish.yml)
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT        written when set (GitHub Actions)
#
# Exit codes:
#   0 changed and pushed, or unchanged (replayed event: no commit)
#   1 invalid payload or configuration (nothing touched), `db set` refused the values, or the updated
#     db does not pass `db validate` (nothing committed)
#   3 refused as stale/conflicting (a newer update is already stored); no commit
#   4 I/O or git failure (fetch, commit, CLI missing or unreadable db)
#   5 push still rejected after RC_MAX_ATTEMPTS attempts
#   6 the db on the remote branch itself does not pass `db validate` (a broken hand edit); no commit:
#     the update is not stored and must be sent again once the branch is fixed
#
# On a rejected push the script does not rebase: it fetches, resets to the remote branch and runs the
# same `db set` again on the new tip, so concurrent updates to other keys are never lost and an older
# update that lost the race to a newer one is refused by the CLI's stale guard (exit 3).
# A push that reported an error may still have reached the remote (the server took it, the answer was
# lost): when the fetched branch contains that commit, the script ends `changed` with it (exit 0), also
# after the last attempt, so that publish still runs for it.
set -euo pipefail
export LC_ALL=C

readonly MAX_VALUE_BYTES=512
payload_ok=0 # set once the payload passed validation; only then are its values echoed in the summary

# ---------------------------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------------------------
log() { printf 'apply-dispatch: %s\n' "$*"; }
err() { printf 'apply-dispatch: error: %s\n' "$*" >&2; }

# Markdown-safe inline code (values are single-line here; backticks are replaced).
# shellcheck disable=SC2016 # the backticks are literal markdown
md_code() { printf '`%s`' "${1//\`/\'}"; }

# summary TITLE DETAIL — appended to the job summary when GitHub provides one.
summary() {
    [[ -n "${GITHUB_STEP_SUMMARY:-}" ]] || return 0
    {
        printf '### release-chan db update: %s\n\n' "$1"
        if ((payload_ok)); then
            printf '| container | channel | image |\n|---|---|---|\n| %s | %s | %s |\n\n' \
                "$(md_code "${RC_CONTAINER}")" "$(md_code "${RC_CHANNEL:-}")" "$(md_code "${RC_IMAGE:-}")"
        fi
        if [[ -n "${2:-}" ]]; then
            # shellcheck disable=SC2016 # literal markdown code fence
            printf '```\n%s\n```\n' "${2//\`\`\`/\'\'\'}"
        fi
    } >>"$GITHUB_STEP_SUMMARY" || true
}

# output KEY VALUE — step output for later jobs (values here are fixed words or commit ids).
output() {
    [[ -n "${GITHUB_OUTPUT:-}" ]] || return 0
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
}

# finish CODE RESULT TITLE [DETAIL] — record the outcome and exit.
finish() {
    output result "$2"
    summary "$3" "${4:-}"
    exit "$1"
}

# True when the value holds no control character (C0, DEL).
valid_line() { [[ "$1" != *[[:cntrl:]]* ]]; }

# ---------------------------------------------------------------------------------------------
# Validate the environment before touching anything
# ---------------------------------------------------------------------------------------------
payload_vars=(RC_CONTAINER RC_CHANNEL RC_IMAGE RC_DIGEST RC_SOURCE_REPOSITORY RC_SOURCE_SHA
    RC_SOURCE_REF RC_RUN_ID RC_ACTOR)
config_vars=(RELEASE_CHAN_BIN RC_DB RC_REMOTE RC_BRANCH RC_MAX_ATTEMPTS RC_BACKOFF_BASE
    RC_BACKOFF_CAP RC_GIT_AUTHOR_NAME RC_GIT_AUTHOR_EMAIL)

problems=()
for name in "${payload_vars[@]}" "${config_vars[@]}"; do
    value="${!name:-}"
    if ! valid_line "$value"; then
        problems+=("$name contains a newline or control character")
    elif ((${#value} > MAX_VALUE_BYTES)); then
        problems+=("$name is ${#value} bytes long (max $MAX_VALUE_BYTES)")
    fi
done
for name in RC_CONTAINER RC_CHANNEL RC_IMAGE; do
    [[ -n "${!name:-}" ]] || problems+=("$name is required")
done
# No payload value may look like an option to the CLI (no valid value starts with "-").
for name in "${payload_vars[@]}"; do
    [[ "${!name:-}" != -* ]] || problems+=("$name must not start with '-'")
done

RELEASE_CHAN_BIN="${RELEASE_CHAN_BIN:-release-chan}"
RC_DB="${RC_DB:-db/db.json}"
RC_REMOTE="${RC_REMOTE:-origin}"
RC_BRANCH="${RC_BRANCH:-main}"
RC_MAX_ATTEMPTS="${RC_MAX_ATTEMPTS:-8}"
RC_BACKOFF_BASE="${RC_BACKOFF_BASE:-0.2}"
RC_BACKOFF_CAP="${RC_BACKOFF_CAP:-5}"
RC_GIT_AUTHOR_NAME="${RC_GIT_AUTHOR_NAME:-github-actions[bot]}"
RC_GIT_AUTHOR_EMAIL="${RC_GIT_AUTHOR_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}"

[[ "$RC_DB" != -* ]] || problems+=("RC_DB must not start with '-'")
[[ "$RC_REMOTE" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || problems+=("RC_REMOTE is not a plain remote name")
git check-ref-format --branch "$RC_BRANCH" >/dev/null 2>&1 && [[ "$RC_BRANCH" != -* ]] ||
    problems+=("RC_BRANCH is not a valid branch name")
[[ "$RC_MAX_ATTEMPTS" =~ ^[1-9][0-9]?$ ]] || problems+=("RC_MAX_ATTEMPTS must be an integer 1..99")
[[ "$RC_BACKOFF_BASE" =~ ^[0-9]+(\.[0-9]+)?$ ]] || problems+=("RC_BACKOFF_BASE must be a number of seconds")
[[ "$RC_BACKOFF_CAP" =~ ^[0-9]+(\.[0-9]+)?$ ]] || problems+=("RC_BACKOFF_CAP must be a number of seconds")

if ((${#problems[@]} > 0)); then
    for p in "${problems[@]}"; do err "$p"; done
    finish 1 invalid "refused (invalid payload)" "$(printf '%s\n' "${problems[@]}")"
fi

payload_ok=1

if ! command -v "$RELEASE_CHAN_BIN" >/dev/null 2>&1; then
    err "CLI not found: RELEASE_CHAN_BIN=$RELEASE_CHAN_BIN"
    finish 4 error "failed (CLI not found)" "RELEASE_CHAN_BIN=$RELEASE_CHAN_BIN"
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    err "the current directory is not a git work tree: $PWD"
    finish 4 error "failed (not a git work tree)"
fi

export GIT_AUTHOR_NAME="$RC_GIT_AUTHOR_NAME" GIT_AUTHOR_EMAIL="$RC_GIT_AUTHOR_EMAIL"
export GIT_COMMITTER_NAME="$RC_GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$RC_GIT_AUTHOR_EMAIL"
export GIT_TERMINAL_PROMPT=0

remote_ref="refs/remotes/$RC_REMOTE/$RC_BRANCH"

# ---------------------------------------------------------------------------------------------
# The update, as CLI arguments (each value one argument; optional ones only when set)
# ---------------------------------------------------------------------------------------------
set_args=(db set --db "$RC_DB" --container "$RC_CONTAINER" --channel "$RC_CHANNEL" --image "$RC_IMAGE")
[[ -z "${RC_DIGEST:-}" ]] || set_args+=(--digest "$RC_DIGEST")
[[ -z "${RC_SOURCE_REPOSITORY:-}" ]] || set_args+=(--source-repository "$RC_SOURCE_REPOSITORY")
[[ -z "${RC_SOURCE_SHA:-}" ]] || set_args+=(--source-sha "$RC_SOURCE_SHA")
[[ -z "${RC_SOURCE_REF:-}" ]] || set_args+=(--source-ref "$RC_SOURCE_REF")
[[ -z "${RC_RUN_ID:-}" ]] || set_args+=(--run-id "$RC_RUN_ID")
[[ -z "${RC_ACTOR:-}" ]] || set_args+=(--actor "$RC_ACTOR")

# Commit message: subject + one source line naming what is known. Values are printf arguments.
commit_message() {
    printf 'release: %s/%s -> %s\n' "$RC_CONTAINER" "$RC_CHANNEL" "$RC_IMAGE"
    local src=""
    if [[ -n "${RC_SOURCE_REPOSITORY:-}" ]]; then
        src="$RC_SOURCE_REPOSITORY"
        [[ -z "${RC_SOURCE_SHA:-}" ]] || src+="@$RC_SOURCE_SHA"
    elif [[ -n "${RC_SOURCE_SHA:-}" ]]; then
        src="$RC_SOURCE_SHA"
    fi
    [[ -z "${RC_SOURCE_REF:-}" ]] || src+="${src:+ }($RC_SOURCE_REF)"
    [[ -z "${RC_RUN_ID:-}" ]] || src+="${src:+ }run $RC_RUN_ID"
    [[ -z "${RC_ACTOR:-}" ]] || src+="${src:+ }by $RC_ACTOR"
    local body=()
    [[ -z "$src" ]] || body+=("source: $src")
    [[ -z "${RC_DIGEST:-}" ]] || body+=("digest: $RC_DIGEST")
    if ((${#body[@]} > 0)); then
        printf '\n'
        printf '%s\n' "${body[@]}"
    fi
}

# Fetch the remote branch and make the work tree exactly its tip.
sync_to_remote() {
    git fetch --quiet --no-tags "$RC_REMOTE" "+refs/heads/$RC_BRANCH:$remote_ref" &&
        git checkout --quiet --force -B "$RC_BRANCH" "$remote_ref" &&
        git reset --quiet --hard "$remote_ref"
}

# Sleep before retry number $1 (1-based): a random delay in [0, min(cap, base * 2^(n-1))] ("full jitter").
backoff() {
    local delay
    delay=$(awk -v base="$RC_BACKOFF_BASE" -v cap="$RC_BACKOFF_CAP" -v n="$1" -v r="$RANDOM" \
        'BEGIN { d = base * 2 ^ (n - 1); if (d > cap) d = cap; printf "%.3f", d * r / 32767 }')
    log "push rejected; retrying in ${delay}s (attempt $(($1 + 1))/$RC_MAX_ATTEMPTS)"
    sleep "$delay"
}

# finish_if_landed COMMIT ATTEMPT — when the fetched remote branch contains COMMIT, whose push reported
# an error, the update is stored by that commit: finish as changed with it (publish must run for it).
finish_if_landed() {
    [[ -n "$1" ]] || return 0
    if git merge-base --is-ancestor "$1" "$remote_ref" 2>/dev/null; then
        log "the push of $1 reported an error, but $RC_REMOTE/$RC_BRANCH contains it (attempt $2)"
        output commit "$1"
        finish 0 changed "changed (commit ${1:0:12}, attempt $2)" "$set_out"
    fi
}

log "update: $RC_CONTAINER/$RC_CHANNEL -> $RC_IMAGE"

attempt=1
unconfirmed="" # the commit of the last failed push: it may have reached the remote all the same
while :; do
    if ! sync_to_remote; then
        err "could not fetch and check out $RC_REMOTE/$RC_BRANCH"
        finish 4 error "failed (git fetch/checkout)" "could not fetch and check out $RC_REMOTE/$RC_BRANCH"
    fi
    finish_if_landed "$unconfirmed" "$((attempt - 1))"
    unconfirmed=""

    # A broken db on the branch makes `db set` refuse any update; say that it is the branch, not the
    # update (also on every retry: someone may have pushed a broken db meanwhile).
    if validate_out=$("$RELEASE_CHAN_BIN" db validate "$RC_DB" 2>&1); then validate_rc=0; else validate_rc=$?; fi
    if ((validate_rc == 1)); then
        printf '%s\n' "$validate_out" >&2
        err "$RC_BRANCH's db is invalid: $RC_DB on $RC_REMOTE/$RC_BRANCH does not pass db validate; update not applied (send it again once the branch is fixed)"
        finish 6 error "refused ($RC_BRANCH's db is invalid; update not applied)" "$validate_out"
    elif ((validate_rc != 0)); then
        printf '%s\n' "$validate_out" >&2
        err "db validate failed on $RC_REMOTE/$RC_BRANCH (exit $validate_rc)"
        finish 4 error "failed (db validate exit $validate_rc)" "$validate_out"
    fi

    # Apply the update with the CLI (also on every retry: the same update on the new tip).
    if set_out=$("$RELEASE_CHAN_BIN" "${set_args[@]}" 2>&1); then set_rc=0; else set_rc=$?; fi
    [[ -z "$set_out" ]] || printf '%s\n' "$set_out"
    case "$set_rc" in
        0) ;;
        3)
            err "refused: $set_out"
            finish 3 stale "refused (stale or conflicting update)" "$set_out"
            ;;
        1 | 2)
            err "db set rejected the update (exit $set_rc)"
            finish 1 invalid "refused (invalid update)" "$set_out"
            ;;
        *)
            err "db set failed (exit $set_rc)"
            finish 4 error "failed (db set exit $set_rc)" "$set_out"
            ;;
    esac

    # Stage only the db file; nothing staged means the same update is already stored.
    if ! git add -- "$RC_DB"; then
        finish 4 error "failed (git add)" "git add $RC_DB failed"
    fi
    if git diff --cached --quiet -- "$RC_DB"; then
        log "unchanged, nothing to commit"
        output commit "$(git rev-parse HEAD)"
        finish 0 unchanged "unchanged (already up to date, no commit)" "$set_out"
    fi

    # Never commit a db the service would refuse (e.g. main already held an invalid db).
    if validate_out=$("$RELEASE_CHAN_BIN" db validate "$RC_DB" 2>&1); then validate_rc=0; else validate_rc=$?; fi
    if ((validate_rc != 0)); then
        printf '%s\n' "$validate_out" >&2
        err "the updated db does not validate (db validate exit $validate_rc); not committing"
        finish "$((validate_rc == 1 ? 1 : 4))" invalid "refused (the updated db does not validate)" "$validate_out"
    fi

    if ! commit_message | git -c commit.gpgsign=false commit --quiet --no-verify -F - -- "$RC_DB"; then
        finish 4 error "failed (git commit)" "git commit failed"
    fi
    commit=$(git rev-parse HEAD)

    if push_out=$(git push --porcelain "$RC_REMOTE" "HEAD:refs/heads/$RC_BRANCH" 2>&1); then
        log "pushed $commit to $RC_REMOTE/$RC_BRANCH (attempt $attempt)"
        output commit "$commit"
        finish 0 changed "changed (commit ${commit:0:12}, attempt $attempt)" "$set_out"
    fi
    printf '%s\n' "$push_out" >&2
    unconfirmed="$commit"

    if ((attempt >= RC_MAX_ATTEMPTS)); then
        # The last push, too, may have landed: look once more before giving up.
        if git fetch --quiet --no-tags "$RC_REMOTE" "+refs/heads/$RC_BRANCH:$remote_ref"; then
            finish_if_landed "$unconfirmed" "$attempt"
        fi
        err "push to $RC_REMOTE/$RC_BRANCH still rejected after $attempt attempts; giving up"
        finish 5 error "FAILED (push rejected $attempt times)" "$push_out"
    fi
    backoff "$attempt"
    attempt=$((attempt + 1))
done
