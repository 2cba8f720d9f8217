#!/usr/bin/env bash
# The `rehearsal` test tier: `make run` twice from this checkout on a cluster of its
# own (a fresh state directory, stopped at the end), then the promotions a user
# tries next. Fails unless both runs succeed, the first one declares the platform,
# the second one reports changed=0, every Application ends Synced and Healthy, and
# the promotions work: a new build into staging, staging -> canary (Argo Rollouts
# steps), canary -> production, a rollback of canary, and a promotion whose pods
# fail (KWOK makes that image's pods crash-loop), which the promotion rolls back.
source "$(dirname "$0")/lib.sh"
export PATH="$VENV/bin:$CACHE/bin:$PATH"
state=$(mktemp -d "${TMPDIR:-/tmp}/mlops-rehearsal.XXXXXX")
logs="$state/logs-make-run"
mkdir -p "$logs"
export MLOPS_CONTROLPLANE_DIR="$state/cp"
export MLOPS_ENVTEST_BIN="${MLOPS_ENVTEST_BIN:-$CACHE/envtest/v$KUBERNETES_VERSION-etcd$ETCD_VERSION}"
cleanup() {
  "$VENV/bin/python" -m mlops_platform.controlplane down --state-dir "$state/cp" || true
  rm -rf "$state"
}
trap cleanup EXIT

run_once() { # run_once N: `make run` on our cluster, output kept in $logs/N.log
  step "make run #$1"
  local started=$SECONDS
  # A command-line variable overrides the Makefile's default control-plane directory.
  # No pipe into tee: `make`'s exit status must be the one we test.
  make --no-print-directory -C "$ROOT" run MLOPS_CONTROLPLANE_DIR="$state/cp" >"$logs/$1.log" 2>&1
  local rc=$?
  cat "$logs/$1.log"
  echo "make run #$1: rc=$rc in $((SECONDS - started)) s"
  return $rc
}
recap() { # recap N: the changed= count of the summary line of run N
  sed 's/\x1b\[[0-9;]*m//g' "$logs/$1.log" | sed -n 's/^\(successful\|failed\|canceled\|timeout\): changed=\([0-9]*\).*/\2/p' | tail -n1
}
mlopsctl_() { # mlopsctl_ ARGS...: mlopsctl on the local inventory, output shown
  echo "+ mlopsctl $*"
  mlopsctl "$@" --inventory "$ROOT/inventory/local"
}

run_once 1 || die "the first \`make run\` failed"
run_once 2 || die "the second \`make run\` failed"
first=$(recap 1) second=$(recap 2)
[ -n "$first" ] && [ -n "$second" ] || die "no 'changed=N' summary line in the output of make run"
echo "first run: changed=$first; second run: changed=$second"
[ "$first" -gt 0 ] || die "the first \`make run\` on a fresh cluster changed nothing: the platform was not declared"
[ "$second" -eq 0 ] || die "the second \`make run\` changed $second task(s): the platform is not idempotent"

cd "$ROOT"
step "every Application Synced and Healthy"
started=$(date +%s%N)
mlopsctl status --json --inventory inventory/local >"$state/status.json" || die "mlopsctl status failed"
echo "mlopsctl status: $(( ($(date +%s%N) - started) / 1000000 )) ms (a figure, not a check)"
python - "$state/status.json" <<'PY' || die "not every Application is Synced and Healthy (above)"
import json, sys
apps = json.load(open(sys.argv[1]))["applications"]
bad = [f"{a['name']}: {a['sync']}/{a['health']}" for a in apps if (a["sync"], a["health"]) != ("Synced", "Healthy")]
print(f"{len(apps)} Applications; not Synced+Healthy: {bad or 'none'}")
sys.exit(1 if bad or not apps else 0)
PY

step "promotions"
image=registry.local/mlops/model-service
mlopsctl_ promote - staging --version 2 --image-tag 2 || die "a new build into staging failed"
mlopsctl_ promote staging canary || die "promote staging canary failed"
mlopsctl_ promote canary production || die "promote canary production failed"
mlopsctl_ rollback canary || die "rollback canary failed"
python -m mlops_platform.controlplane fail-image "$image:3" --state-dir "$state/cp"
if mlopsctl_ promote - staging --version 3 --image-tag 3 >"$state/fail.log" 2>&1; then
  cat "$state/fail.log"; die "the promotion of a version whose pods fail succeeded"
fi
cat "$state/fail.log"
grep -q "rolled back to version 2" "$state/fail.log" || die "the failed promotion was not rolled back to version 2"
step "memory of the local cluster's processes"
python -m mlops_platform.controlplane memory --state-dir "$state/cp"
echo "rehearsal: passed"
