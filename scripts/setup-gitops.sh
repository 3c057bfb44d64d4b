#!/usr/bin/env bash
# setup-gitops.sh — prepare the repository-dispatch + Argo CD flow (see docs/gitops-setup.md).
#
# Usage: scripts/setup-gitops.sh [options]
#   --repo OWNER/NAME      this (release-chan) repository; default: parsed from `git remote get-url origin`
#   --source-repo OWNER/NAME
#                          a source repository that will send updates (repeatable); with --token-file
#                          and gh, its secret RELEASE_API_PAT is set
#   --token-file FILE      file holding the token for RELEASE_API_PAT (first line is used)
#   --out DIR              where to write test-dispatch.sh and argocd-application.yaml (default: the
#                          current directory)
#   --dry-run              print what would be done, change nothing
#   --non-interactive      never ask; fail instead of prompting (also when stdin is not a terminal)
#   -h, --help             this text
#
# Steps: check prerequisites (git, curl, jq; gh optional), set RELEASE_API_PAT on the source repos,
# write test-dispatch.sh (a copy of scripts/test-dispatch.sh), write the Argo CD Application to
# argocd-application.yaml (deployment/argocd/application.yaml when present, else a built-in one, with
# repoURL set to --repo; apply it with `kubectl apply -n argocd -f DIR/argocd-application.yaml`), and
# print the next steps.
# Exit 0 done, 1 a step failed, 2 usage.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$script_dir/.." && pwd)

repo=""
token_file=""
out_dir="."
dry_run=0
interactive=1
source_repos=()

usage() {
    sed -n '2,/^# Exit/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}
say() { printf '%s\n' "$*"; }
warn() { printf 'setup-gitops: warning: %s\n' "$*" >&2; }
die() {
    printf 'setup-gitops: error: %s\n' "$*" >&2
    exit 1
}
# run CMD... — run, or only print it under --dry-run.
run() {
    if ((dry_run)); then
        printf '[dry-run] would run:'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}
need_value() { [[ $# -ge 2 && -n "$2" ]] || { printf 'setup-gitops: %s needs a value\n' "$1" >&2; usage 2; }; }

while (($#)); do
    case "$1" in
        --repo) need_value "$@"; repo="$2"; shift 2 ;;
        --repo=*) repo="${1#*=}"; shift ;;
        --source-repo) need_value "$@"; source_repos+=("$2"); shift 2 ;;
        --source-repo=*) source_repos+=("${1#*=}"); shift ;;
        --token-file) need_value "$@"; token_file="$2"; shift 2 ;;
        --token-file=*) token_file="${1#*=}"; shift ;;
        --out) need_value "$@"; out_dir="$2"; shift 2 ;;
        --out=*) out_dir="${1#*=}"; shift ;;
        --dry-run) dry_run=1; shift ;;
        --non-interactive) interactive=0; shift ;;
        -h | --help) usage 0 ;;
        *) printf 'setup-gitops: unknown option: %s\n' "$1" >&2; usage 2 ;;
    esac
done
[[ -t 0 ]] || interactive=0

repo_re='^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$'

confirm() {
    ((interactive)) || return 0
    local answer
    read -r -p "$1 [y/N] " answer
    [[ "$answer" == [yY] || "$answer" == [yY][eE][sS] ]]
}

# --- 1. prerequisites ----------------------------------------------------------------------------
say "== Checking prerequisites"
missing=()
for tool in git curl jq; do
    if command -v "$tool" >/dev/null 2>&1; then say "  ok: $tool"; else missing+=("$tool"); fi
done
((${#missing[@]} == 0)) || die "missing required tools: ${missing[*]} (e.g. apt-get install -y ${missing[*]})"
have_gh=0
if command -v gh >/dev/null 2>&1; then
    have_gh=1
    say "  ok: gh (optional)"
else
    say "  -- gh not found (optional: needed only to set secrets and run workflows from here)"
fi

if [[ -z "$repo" ]]; then
    origin=$(git -C "$repo_root" remote get-url origin 2>/dev/null || true)
    if [[ "$origin" =~ github\.com[:/]([^/]+/[^/]+)$ ]]; then repo="${BASH_REMATCH[1]%.git}"; fi
fi
if [[ -z "$repo" ]]; then
    ((interactive)) || die "--repo OWNER/NAME is required (no GitHub origin remote found)"
    read -r -p "release-chan repository (OWNER/NAME): " repo
fi
[[ "$repo" =~ $repo_re ]] || die "--repo must be OWNER/NAME, got \"$repo\""
say "  release-chan repository: $repo"

for source_repo in "${source_repos[@]}"; do
    [[ "$source_repo" =~ $repo_re ]] || die "--source-repo must be OWNER/NAME, got \"$source_repo\""
done

# --- 2. RELEASE_API_PAT on source repositories -----------------------------------------------------
say "== Source repository secrets"
if ((${#source_repos[@]} == 0)); then
    say "  (no --source-repo given; set it later with:"
    say "   gh secret set RELEASE_API_PAT --repo OWNER/SOURCE <token-file)"
else
    [[ -n "$token_file" ]] || die "--source-repo needs --token-file FILE (the token for RELEASE_API_PAT)"
    [[ -r "$token_file" ]] || die "cannot read token file: $token_file"
    if ((!have_gh)); then
        msg="gh is required to set secrets (or set RELEASE_API_PAT in each repository's settings)"
        if ((dry_run)); then warn "$msg"; else die "$msg"; fi
    fi
    perms=$(stat -c '%a' -- "$token_file" 2>/dev/null || echo "")
    [[ -z "$perms" || "$perms" =~ ^[0-7]00$ ]] || warn "$token_file is readable by others (mode $perms); chmod 600 it"
    token=$(head -n 1 -- "$token_file" | tr -d '\r')
    [[ -n "$token" && "$token" != *[[:space:]]* ]] || die "the first line of $token_file is not a token"
    if ((!dry_run)); then
        gh auth status >/dev/null 2>&1 || die "gh is not logged in (run: gh auth login)"
    fi
    for source_repo in "${source_repos[@]}"; do
        if ((!dry_run)) && ! confirm "Set secret RELEASE_API_PAT on $source_repo?"; then
            say "  skipped $source_repo"
            continue
        fi
        if ((dry_run)); then
            printf '[dry-run] would run: gh secret set RELEASE_API_PAT --repo %q  (token from %q via stdin)\n' \
                "$source_repo" "$token_file"
        else
            printf '%s' "$token" | gh secret set RELEASE_API_PAT --repo "$source_repo" ||
                die "gh secret set failed for $source_repo"
            say "  set RELEASE_API_PAT on $source_repo"
        fi
    done
    unset token
fi

# --- 3. test-dispatch.sh ---------------------------------------------------------------------------
say "== test-dispatch.sh"
template="$script_dir/test-dispatch.sh"
[[ -r "$template" ]] || die "template not found: $template"
target="$out_dir/test-dispatch.sh"
if ((dry_run)); then
    say "[dry-run] would write $target (copy of scripts/test-dispatch.sh)"
else
    mkdir -p -- "$out_dir"
    if [[ -e "$target" ]] && ! cmp -s -- "$template" "$target"; then
        confirm "$target exists and differs; overwrite?" || die "not overwriting $target"
    fi
    if ! [[ "$template" -ef "$target" ]]; then
        cp -- "$template" "$target"
    fi
    chmod 755 -- "$target"
    say "  wrote $target"
fi

# --- 4. Argo CD Application ------------------------------------------------------------------------
say "== Argo CD Application"
app_file="$repo_root/deployment/argocd/application.yaml"
app_target="$out_dir/argocd-application.yaml"
app_url="https://github.com/$repo.git"
if [[ -f "$app_file" ]]; then
    app_origin="deployment/argocd/application.yaml"
    # Its repoURL names the example repository: point it at this one ($repo is OWNER/NAME, checked above).
    app_yaml=$(awk -v url="$app_url" '
        /^[[:space:]]*repoURL:/ { sub(/repoURL:.*/, "repoURL: " url); n++ }
        { print }
        END { if (n == 0) exit 3 }' "$app_file") || die "no repoURL found in $app_file"
else
    app_origin="built-in"
    app_yaml=$(
        cat <<YAML
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: release-chan
  namespace: argocd
spec:
  project: default
  source:
    repoURL: $app_url
    targetRevision: HEAD
    path: deployment/overlays/prod
  destination:
    server: https://kubernetes.default.svc
    namespace: release-chan
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
      - ServerSideApply=true
      - RespectIgnoreDifferences=true
  # The HorizontalPodAutoscaler owns the replica count; selfHeal must not reset it.
  ignoreDifferences:
    - group: apps
      kind: Deployment
      name: release-chan
      jsonPointers:
        - /spec/replicas
YAML
    )
fi
if ((dry_run)); then
    say "[dry-run] would write $app_target (from $app_origin, repoURL $app_url)"
else
    mkdir -p -- "$out_dir"
    if [[ -e "$app_target" ]] && ! cmp -s -- "$app_target" <(printf '%s\n' "$app_yaml"); then
        confirm "$app_target exists and differs; overwrite?" || die "not overwriting $app_target"
    fi
    printf '%s\n' "$app_yaml" >"$app_target"
    say "  wrote $app_target (from $app_origin, repoURL $app_url)"
fi
say "  apply it with: kubectl apply -n argocd -f $app_target"

# --- 5. next steps ---------------------------------------------------------------------------------
cat <<TEXT
== Next steps
1. In each source repository: copy .github/workflows/source-repo-template.yml to
   .github/workflows/update-release-channel.yml, edit CONTAINERS, the build workflow name and
   set the repository variable RELEASE_CHAN_REPOSITORY=$repo (or edit TARGET_REPO).
2. Try one update by hand:
     RC_REPOSITORY=$repo $target - my-app dev ghcr.io/acme/my-app:v1.0.0 <TOKEN_FILE
3. Watch it: https://github.com/$repo/actions/workflows/update-database.yml
4. Hand the manifests to Argo CD: kubectl apply -n argocd -f $app_target
   (several clusters: deployment/argocd/applicationset.yaml instead, after editing its repoURL).
TEXT
if ((dry_run)); then say "(dry run: nothing was changed)"; fi
