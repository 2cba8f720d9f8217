#!/usr/bin/env bash
# What `make run` and `make envtest-up` need: the venv (scripts/deps.sh), the local
# cluster's Go builds, the MLflow environment and Redis, all at once. The Go builds are
# most of a cold setup. They run as two chains (the cluster: etcd, Kubernetes, KWOK; the
# controllers beside it): one `go build` leaves a core idle while it links and while
# its last packages compile one after the other, and the other chain fills it. The venv
# MLflow and the reference application wait mostly on downloads. Each line of output is prefixed with its part's name.
source "$(dirname "$0")/lib.sh"

names=() pids=()
part() { # part NAME COMMAND...: run COMMAND in the background, its output prefixed with NAME
  local name=$1
  shift
  "$@" 2>&1 | sed -u "s/^/[$name] /" &
  names+=("$name") pids+=($!)
}

part venv "$ROOT/scripts/deps.sh"
part cluster "$ROOT/scripts/build-go.sh" envtest
part controllers "$ROOT/scripts/build-go.sh" controllers
part mlflow+redis+app "$ROOT/scripts/test-deps.sh" mlflow redis app

failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
[ ${#failed[@]} -eq 0 ] || die "the setup failed in: ${failed[*]} (its lines above are prefixed with its name)"
