#!/usr/bin/env bash
# `make run`: the whole platform on the local rehearsal target (inventory/local).
# Starts the local cluster unless it is running (the control plane and controllers,
# KWOK's simulated nodes, ArgoCD, Argo Rollouts, MLflow: mlops_platform.controlplane),
# registers the model versions a training run would have, runs site.yml through
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

step "MLflow: the model versions a training run registers"
mlflow_url=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["mlflow_url"])' "$MLOPS_CONTROLPLANE_DIR/endpoints.json")
model=$(python -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["environments_model_name"])' \
  inventory/local/group_vars/all/platform.yml)
python -m mlops_platform.mlflow_local "$mlflow_url" "$model" 3

step "site.yml on inventory/local"
mlopsctl up --inventory inventory/local

step "status"
mlopsctl status --inventory inventory/local
