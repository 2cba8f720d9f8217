#!/usr/bin/env bash
# The `rehearsal` test tier: `make run` twice from this checkout on a control
# plane of its own (a fresh state directory, stopped at the end). Fails unless
# both runs succeed, the first one declares the platform (changed > 0 once the
# stages do anything) and the second one reports changed=0.
source "$(dirname "$0")/lib.sh"
export PATH="$VENV/bin:$CACHE/bin:$PATH"
state=$(mktemp -d "${TMPDIR:-/tmp}/mlops-rehearsal.XXXXXX")
logs="$state/logs-make-run"
mkdir -p "$logs"
cleanup() {
  "$VENV/bin/python" -m mlops_platform.controlplane down --state-dir "$state" || true
  rm -rf "$state"
}
trap cleanup EXIT

run_once() { # run_once N: `make run` on our control plane, output kept in $logs/N.log
  step "make run #$1"
  # A command-line variable overrides the Makefile's default control-plane directory.
  # No pipe into tee: `make`'s exit status must be the one we test.
  make --no-print-directory -C "$ROOT" run MLOPS_CONTROLPLANE_DIR="$state/cp" >"$logs/$1.log" 2>&1
  local rc=$?
  cat "$logs/$1.log"
  return $rc
}
recap() { # recap N: the changed= count of the summary line of run N
  sed 's/\x1b\[[0-9;]*m//g' "$logs/$1.log" | sed -n 's/^\(successful\|failed\|canceled\|timeout\): changed=\([0-9]*\).*/\2/p' | tail -n1
}

run_once 1 || die "the first \`make run\` failed"
run_once 2 || die "the second \`make run\` failed"
first=$(recap 1) second=$(recap 2)
[ -n "$first" ] && [ -n "$second" ] || die "no 'changed=N' summary line in the output of make run"
echo "first run: changed=$first; second run: changed=$second"
grep -q "Applications" "$logs/1.log" || die "the status table lists no Applications after make run"
[ "$first" -gt 0 ] || die "the first \`make run\` on a fresh control plane changed nothing: the platform was not declared"
[ "$second" -eq 0 ] || die "the second \`make run\` changed $second task(s): the platform is not idempotent"
echo "rehearsal: passed"
