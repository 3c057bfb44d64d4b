#!/usr/bin/env bash
# next-version.sh — the next semantic version of release-chan, from git tags and conventional commits.
#
#   scripts/next-version.sh [--notes] [REV]
#
# REV (default HEAD) is the commit to release. The previous release is the nearest tag reachable from
# REV that looks like vMAJOR.MINOR.PATCH (pre-release tags such as v1.2.0-rc.1 are ignored). Every
# non-merge commit after it up to REV decides the bump, the highest one wins:
#
#   major   a `!` after the type/scope (`feat!: …`, `fix(api)!: …`) or a `BREAKING CHANGE:` /
#           `BREAKING-CHANGE:` footer line
#   minor   type `feat`
#   patch   types `fix`, `perf`, `revert` (and git's `Revert "…"` subjects), `release` (the subject of
#           every db update committed by scripts/apply-dispatch.sh), and any commit that changes db/
#           (the db is the product: a db change is always released)
#   none    anything else (chore, docs, ci, test, refactor, style, build, non-conventional subjects)
#
# No previous tag: the first release is NEXT_VERSION_INITIAL (default 0.1.0), whatever the commits.
#
# Output (default): key=value lines, ready for "$GITHUB_OUTPUT":
#   previous=v0.3.1      the previous release tag (empty for the first release)
#   bump=minor           major | minor | patch | none | initial | forced-<kind>
#   release=true         false when nothing since the previous release is releasable
#   version=0.4.0        the next version without "v" (empty when release=false)
#   tag=v0.4.0           the git tag / GitHub release name (empty when release=false)
#
# --notes: Markdown release notes instead (breaking changes, features, fixes, db updates, …).
#
# Environment:
#   NEXT_VERSION_INITIAL=0.1.0   version of the first release
#   NEXT_VERSION_BUMP=auto       auto | patch | minor | major: force this bump (e.g. to rebuild on a
#                                new base image although no commit is releasable)
#
# Exit status: 0 (also when nothing is releasable), 2 on a usage error or an unusable repository.
set -euo pipefail

die() {
    printf 'next-version: %s\n' "$*" >&2
    exit 2
}

mode=version
rev=HEAD
while (($# > 0)); do
    case "$1" in
        --notes) mode=notes ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        -*) die "unknown option $1" ;;
        *) rev="$1" ;;
    esac
    shift
done

initial=${NEXT_VERSION_INITIAL:-0.1.0}
forced=${NEXT_VERSION_BUMP:-auto}
readonly semver_re='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'
[[ $initial =~ $semver_re ]] || die "NEXT_VERSION_INITIAL '$initial' is not MAJOR.MINOR.PATCH"
case "$forced" in auto | patch | minor | major) ;; *) die "NEXT_VERSION_BUMP must be auto, patch, minor or major" ;; esac

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "not inside a git work tree"
commit=$(git rev-parse --verify --quiet "$rev^{commit}") || die "unknown revision $rev"
if [[ $(git rev-parse --is-shallow-repository) == true ]]; then
    die "shallow clone: the previous tag and the commits since may be missing (fetch-depth: 0)"
fi

# The previous release: nearest vX.Y.Z tag reachable from the commit (pre-release tags excluded).
previous=$(git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' --exclude 'v*-*' \
    --exclude 'v*+*' "$commit" 2>/dev/null) || previous=""
if [[ -n $previous && ! ${previous#v} =~ $semver_re ]]; then
    die "nearest release tag '$previous' is not vMAJOR.MINOR.PATCH"
fi

# Classify each commit after the previous release: one "level<TAB>section<TAB>subject<TAB>sha" line each.
# level: 3 major, 2 minor, 1 patch, 0 none.
classify() {
    local range=$commit sha subject body type bang level section
    [[ -z $previous ]] || range="$previous..$commit"
    local header_re='^([A-Za-z]+)(\([^()]*\))?(!)?: .'
    while IFS= read -r -d $'\x1e' record; do
        record=${record#$'\n'}
        [[ -n $record ]] || continue
        sha=${record%%$'\x1f'*}
        record=${record#*$'\x1f'}
        subject=${record%%$'\x1f'*}
        body=${record#*$'\x1f'}
        type="" bang=""
        if [[ $subject =~ $header_re ]]; then
            type=${BASH_REMATCH[1],,}
            bang=${BASH_REMATCH[3]}
        elif [[ $subject == 'Revert "'* ]]; then
            type=revert
        fi
        level=0 section=other
        case "$type" in
            feat) level=2 section=features ;;
            fix) level=1 section=fixes ;;
            perf) level=1 section=performance ;;
            revert) level=1 section=reverts ;;
            release) level=1 section=db ;;
        esac
        if ((level < 1)) && git diff-tree --no-commit-id --name-only -r "$sha" -- db/ | grep -q .; then
            level=1 section=db
        fi
        if [[ -n $bang ]] || grep -Eq '^BREAKING[ -]CHANGE: ' <<<"$body"; then
            level=3
            [[ $section != other ]] || section=breaking
        fi
        printf '%s\t%s\t%s\t%s\n' "$level" "$section" "$subject" "$sha"
    done < <(git log --no-merges --format='%H%x1f%s%x1f%b%x1e' "$range")
}

classified=$(classify)

if [[ $mode == notes ]]; then
    heading() {
        case "$1" in
            breaking) echo "Breaking changes" ;;
            features) echo "Features" ;;
            fixes) echo "Fixes" ;;
            performance) echo "Performance" ;;
            reverts) echo "Reverts" ;;
            db) echo "Release channel updates (db)" ;;
            other) echo "Other changes" ;;
        esac
    }
    if [[ -z $classified ]]; then
        echo "No changes since ${previous:-the beginning}."
        exit 0
    fi
    # Breaking changes first (whatever their type), then one section per kind.
    breaking=$(awk -F '\t' '$1 == 3' <<<"$classified")
    if [[ -n $breaking ]]; then
        printf '### %s\n\n' "$(heading breaking)"
        awk -F '\t' '{ printf "- %s (%s)\n", $3, substr($4, 1, 12) }' <<<"$breaking"
        echo
    fi
    for section in features fixes performance reverts db other; do
        lines=$(awk -F '\t' -v s="$section" '$1 != 3 && $2 == s' <<<"$classified")
        [[ -n $lines ]] || continue
        printf '### %s\n\n' "$(heading "$section")"
        awk -F '\t' '{ printf "- %s (%s)\n", $3, substr($4, 1, 12) }' <<<"$lines"
        echo
    done
    exit 0
fi

level=0
if [[ -n $classified ]]; then
    level=$(cut -f1 <<<"$classified" | sort -n | tail -n1)
fi

if [[ -z $previous ]]; then
    bump="initial" version=$initial
else
    IFS=. read -r major minor patch <<<"${previous#v}"
    case "$forced" in
        major) level=3 bump="forced-major" ;;
        minor) level=2 bump="forced-minor" ;;
        patch) level=1 bump="forced-patch" ;;
        *) bump="" ;;
    esac
    case "$level" in
        3) version="$((major + 1)).0.0" ;;
        2) version="$major.$((minor + 1)).0" ;;
        1) version="$major.$minor.$((patch + 1))" ;;
        *) version="" ;;
    esac
    if [[ -z $bump ]]; then
        case "$level" in 3) bump="major" ;; 2) bump="minor" ;; 1) bump="patch" ;; *) bump="none" ;; esac
    fi
fi

if [[ -n $version ]] && git rev-parse --verify --quiet "refs/tags/v$version" >/dev/null; then
    die "tag v$version already exists but is not reachable from $rev as the latest release"
fi

printf 'previous=%s\n' "$previous"
printf 'bump=%s\n' "$bump"
printf 'release=%s\n' "$([[ -n $version ]] && echo true || echo false)"
printf 'version=%s\n' "$version"
printf 'tag=%s\n' "${version:+v$version}"
