#!/usr/bin/env bash
# `make run`: the whole platform on the local rehearsal target (inventory/local).
# Starts the local cluster unless it is running (the control plane and controllers,
# KWOK's simulated nodes, ArgoCD, Argo Rollouts, MLflow: mlops_platform.controlplane),
# trains the reference application into its MLflow (versions 1 to 3), runs site.yml through
# mlopsctl (the Python API over ansible-runner) with live progress, and ends with
# the `mlopsctl status` table. The cloud stages (infra, nodes, cluster) skip
# themselves here; the others run for real. A second `make run` reports changed=0.
source "$(dirname "$0")/lib.sh"
export PATH="$VENV/bin:$CACHE/bin:$PATH"
export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$ROOT/ansible.cfg}"
export MLOPS_ENVTEST_BIN="${MLOPS_ENVTEST_BIN:-$CACHE/envtest/v$KUBERNETES_VERSION-etcd$ETCD_VERSION}"
export MLOPS_CONTROLPLANE_DIR="${MLOPS_CONTROLPLANE_DIR:-$CACHE/controlplane}"
cd "$ROOT"

[ -x "$VENV/bin/mlopsctl" ] || die "mlopsctl is not installed in $VENV: run \`make deps\`"

step "local cluster ($MLOPS_CONTROLPLANE_DIR)"
# Idempotent: prints the kubeconfig of the running control plane, or starts one.
MLOPS_KUBECONFIG=$(python -m mlops_platform.controlplane up) || die "the local control plane did not start (see above)"
export MLOPS_KUBECONFIG
echo "    kubeconfig: $MLOPS_KUBECONFIG (stop it with \`make envtest-down\`)"

step "MLflow: the reference application trains versions 1 to 3 (once)"
mlflow_url=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["mlflow_url"])' "$MLOPS_CONTROLPLANE_DIR/endpoints.json")
model=$(python -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["environments_model_name"])' \
  inventory/local/group_vars/all/platform.yml)
# apps/digits' training as a process of its environment (Argo Workflows' train-model runs it
# in a pod on a real cluster): three regularisations, each version registered through the gate.
have=$(python -m mlops_platform.mlflow_local "$mlflow_url" "$model" --count)
n=0
for c in 0.1 0.5 1.0; do
  n=$((n + 1))
  [ "$have" -ge "$n" ] && continue
  "$CACHE/app-digits/bin/mlops-digits-train" --tracking-uri "$mlflow_url" --model-name "$model" \
    --c "$c" --compare-alias "" || die "training version $n of $model failed (above)"
done
echo "    $model: $(python -m mlops_platform.mlflow_local "$mlflow_url" "$model" --count) versions in $mlflow_url"

step "site.yml on inventory/local"
mlopsctl up --inventory inventory/local

step "status"
mlopsctl status --inventory inventory/local
