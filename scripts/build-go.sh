#!/usr/bin/env bash
# Go-built tools, each cached under .cache/ by version:
#   envtest     the local cluster: etcd, kube-apiserver, kube-controller-manager,
#               kube-scheduler (tests/envtest/), KWOK; linked into one directory
#   controllers what the local cluster runs beside it, linked into the same directory:
#               ArgoCD's controllers (from the fixture's source), Argo Rollouts, the
#               Prometheus Operator (the longest builds: `make test` runs them in the
#               background while the tiers that need none of them run)
#   provider    terraform-provider-openstack in a filesystem mirror + CLI config
#   helm        helm v3 for chart tests
#   terraform   `terraform` on PATH when >= TERRAFORM_MIN_VERSION, else OpenTofu built here
#   schedcheck  the kube-scheduler's node filters as a command (tests/contract/schedcheck/)
#   amtool      Alertmanager's amtool at the version kube-prometheus-stack runs (check-config,
#               routes test); Debian bookworm's 0.25 rejects fields the chart's Alertmanager reads
source "$(dirname "$0")/lib.sh"
need go "install Go 1.25+ (https://go.dev/doc/install or apt-get install golang)"
FIXTURES="$ROOT/../shared/fixtures"

# role_pin ROLE VARIABLE: a version pinned in a role's defaults (the one place it is
# pinned: the real target installs that release, the rehearsal builds the same one).
role_pin() {
  sed -n "s/^$2: *\"\{0,1\}v\{0,1\}\([0-9][0-9.]*\)\"\{0,1\} *$/\1/p" "$ROOT/roles/$1/defaults/main.yml"
}
ARGOCD_VERSION=$(role_pin gitops gitops_argocd_version)
ARGO_ROLLOUTS_VERSION=$(role_pin gitops gitops_argo_rollouts_version)

# go_build_module MODULE VERSION PACKAGE OUTPUT: build a main package inside the
# downloaded module, so its own go.mod (and replace directives) apply. `go install
# pkg@version` would also ask the proxy for the module's version list, which the
# proxy here refuses for some modules.
module_dir() { # module_dir MODULE VERSION: where the Go proxy's copy of it is unpacked
  (cd "$ROOT" && GOFLAGS=-mod=mod go mod download -json "$1@$2" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
}

go_build_module() {
  local module=$1 version=$2 pkg=$3 out=$4 dir
  dir=$(module_dir "$module" "$version")
  mkdir -p "$(dirname "$out")"
  (cd "$dir" && go build -trimpath -ldflags "${GO_LDFLAGS:-}" -o "$out.tmp" "$pkg") && mv "$out.tmp" "$out"
}

# link TARGET NAME: a symlink to TARGET's real path (the build directories may be shared
# between checkouts through a symlinked .cache/ entry).
link() { ln -sfn "$(readlink -f "$1")" "$2"; }

# The Kubernetes version the built binaries report (`/version`, `kubectl version`):
# without it they say v0.0.0-master and Helm refuses charts with a kubeVersion.
k8s_ldflags() {
  local v=$KUBERNETES_VERSION flags="" key val
  for kv in "gitVersion=v$v" "gitMajor=${v%%.*}" "gitMinor=$(cut -d. -f2 <<<"$v")" \
            "gitTreeState=clean" "buildDate=1970-01-01T00:00:00Z"; do
    key=${kv%%=*} val=${kv#*=}
    flags+=" -X k8s.io/component-base/version.$key=$val -X k8s.io/client-go/pkg/version.$key=$val"
  done
  echo "$flags"
}

build_envtest() {
  local dir="$CACHE/envtest/v${KUBERNETES_VERSION}-etcd${ETCD_VERSION}" k8s=(kube-apiserver kube-controller-manager kube-scheduler)
  if [ -x "$dir/etcd" ]; then
    skip "etcd $ETCD_VERSION"
  else
    step "build etcd $ETCD_VERSION from the Go module proxy"
    mkdir -p "$dir"
    (cd "$ROOT/tests/envtest/etcd" && go build -trimpath -o "$dir/etcd.tmp" . && mv "$dir/etcd.tmp" "$dir/etcd")
  fi
  if [ -x "$dir/kube-scheduler" ]; then
    skip "Kubernetes $KUBERNETES_VERSION (${k8s[*]})"
  else
    step "build Kubernetes $KUBERNETES_VERSION (${k8s[*]}) from the Go module proxy"
    # One invocation: the three share most packages, so they compile once.
    mkdir -p "$dir/.tmp"
    (cd "$ROOT/tests/envtest/kubernetes" \
      && go build -trimpath -ldflags "$(k8s_ldflags)" -o "$dir/.tmp/" "${k8s[@]/#/./}")
    for b in "${k8s[@]}"; do mv "$dir/.tmp/$b" "$dir/$b"; done
    rmdir "$dir/.tmp"
  fi
  build_kwok "$dir"
  ln -sfn "$dir" "$CACHE/envtest/current"
}

build_controllers() {
  local dir="$CACHE/envtest/v${KUBERNETES_VERSION}-etcd${ETCD_VERSION}"
  mkdir -p "$dir"
  build_helm && link "$CACHE/go/helm-$HELM_VERSION/helm" "$dir/helm" # ArgoCD's repo-server runs it
  build_argocd "$dir"
  build_rollouts "$dir"
  build_prometheus_operator "$dir"
}

# KWOK simulates the nodes and their pods' states. Its stage definitions and the
# Stage CRD come with the binary (the launcher applies them).
build_kwok() {
  local out=$1 dir="$CACHE/go/kwok-$KWOK_VERSION" src
  if [ -x "$dir/kwok" ]; then
    skip "kwok $KWOK_VERSION"
  else
    step "build kwok $KWOK_VERSION"
    go_build_module sigs.k8s.io/kwok "v$KWOK_VERSION" ./cmd/kwok "$dir/kwok"
    src=$(module_dir sigs.k8s.io/kwok "v$KWOK_VERSION")
    mkdir -p "$dir/stages"
    cp "$src"/kustomize/stage/node/fast/node-initialize.yaml \
      "$src"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
      "$src"/kustomize/stage/pod/general/pod-*.yaml "$dir/stages/"
    cp "$src"/kustomize/crd/bases/kwok.x-k8s.io_stages.yaml "$dir/"
    chmod -R u+w "$dir"
  fi
  link "$dir/kwok" "$out/kwok"
  link "$dir/stages" "$out/kwok-stages"
  link "$dir/kwok.x-k8s.io_stages.yaml" "$out/kwok-stage-crd.yaml"
}

# ArgoCD from the fixture's source (the Go proxy cannot serve its nested gitops-engine
# module): a multi-call binary of only the commands run here (tests/envtest/argocd/main.go,
# built inside the release's tree), run as application-controller and repo-server by name.
build_argocd() {
  local out=$1 v=$ARGOCD_VERSION dir="$CACHE/go/argo-cd-$ARGOCD_VERSION" src="$FIXTURES/src/argo-cd-v$ARGOCD_VERSION"
  if [ -x "$dir/bin/argocd" ]; then
    skip "ArgoCD $v"
  else
    step "build ArgoCD $v from $src-src.tar.gz"
    [ -f "$src-src.tar.gz" ] || die "$src-src.tar.gz is missing (../shared beside the checkout)"
    rm -rf "$dir/src" && mkdir -p "$dir/src" "$dir/bin"
    tar -xzf "$src-src.tar.gz" -C "$dir/src" --strip-components=1
    tar -xzf "$src-image-scripts.tar.gz" -C "$dir/bin" --strip-components=2 --wildcards '*/hack/*.sh'
    # The release's commit, as PROVENANCE.md records it: `argocd version` then says v$v.
    local pkg=github.com/argoproj/argo-cd/v3/common commit
    commit=$(grep -F "src/argo-cd-v$v-src.tar.gz" "$FIXTURES/PROVENANCE.md" | grep -o '[0-9a-f]\{40\}' | head -n1)
    mkdir -p "$dir/src/cmd/mlops-local" && cp "$ROOT/tests/envtest/argocd/main.go" "$dir/src/cmd/mlops-local/"
    (cd "$dir/src" && go build -trimpath -o "$dir/bin/argocd.tmp" -ldflags \
      "-X $pkg.version=$v -X $pkg.gitTag=v$v -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean" ./cmd/mlops-local) \
      && mv "$dir/bin/argocd.tmp" "$dir/bin/argocd"
  fi
  for name in argocd argocd-application-controller argocd-repo-server git-verify-wrapper.sh gpg-wrapper.sh; do
    link "$dir/bin/$( [ "${name%.sh}" = "$name" ] && echo argocd || echo "$name")" "$out/$name"
  done
}

build_rollouts() {
  local out=$1 dir="$CACHE/go/argo-rollouts-$ARGO_ROLLOUTS_VERSION" pkg=github.com/argoproj/argo-rollouts/utils/version
  if [ -x "$dir/rollouts-controller" ]; then
    skip "Argo Rollouts $ARGO_ROLLOUTS_VERSION"
  else
    step "build Argo Rollouts $ARGO_ROLLOUTS_VERSION"
    GO_LDFLAGS="-X $pkg.version=v$ARGO_ROLLOUTS_VERSION -X $pkg.gitTreeState=clean" go_build_module \
      github.com/argoproj/argo-rollouts "v$ARGO_ROLLOUTS_VERSION" ./cmd/rollouts-controller "$dir/rollouts-controller"
  fi
  link "$dir/rollouts-controller" "$out/rollouts-controller"
}

# The Prometheus Operator kube-prometheus-stack's pinned chart runs: it turns the chart's
# Prometheus and Alertmanager into StatefulSets and reports their health.
build_prometheus_operator() {
  local out=$1 v=$PROMETHEUS_OPERATOR_VERSION dir="$CACHE/go/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
  local module=github.com/prometheus-operator/prometheus-operator
  if [ -x "$dir/prometheus-operator" ]; then
    skip "Prometheus Operator $v"
  else
    step "build Prometheus Operator $v"
    # Its go.mod replaces two nested modules by directories that the module's zip leaves
    # out: lay the three out as the repository has them (each from the Go proxy).
    rm -rf "$dir/src" && mkdir -p "$dir/src/pkg/apis"
    cp -r "$(module_dir "$module" "v$v")/." "$dir/src/"
    chmod -R u+w "$dir/src"
    rm -rf "$dir/src/pkg/apis/monitoring" "$dir/src/pkg/client"
    cp -r "$(module_dir "$module/pkg/apis/monitoring" "v$v")" "$dir/src/pkg/apis/monitoring"
    cp -r "$(module_dir "$module/pkg/client" "v$v")" "$dir/src/pkg/client"
    chmod -R u+w "$dir/src"
    (cd "$dir/src" && go build -trimpath -ldflags "-X github.com/prometheus/common/version.Version=$v" \
      -o "$dir/prometheus-operator.tmp" ./cmd/operator) && mv "$dir/prometheus-operator.tmp" "$dir/prometheus-operator"
  fi
  link "$dir/prometheus-operator" "$out/prometheus-operator"
}

build_provider() {
  local v=$OPENSTACK_PROVIDER_VERSION mirror="$CACHE/terraform-mirror"
  local bin="$CACHE/go/provider-$v/terraform-provider-openstack"
  if [ -x "$bin" ]; then
    skip "terraform-provider-openstack $v"
  else
    step "build terraform-provider-openstack v$v"
    # The checksum database does not list this module; the module proxy serves it.
    GONOSUMDB=github.com/terraform-provider-openstack go_build_module \
      github.com/terraform-provider-openstack/terraform-provider-openstack/v3 "v$v" . "$bin"
  fi
  # The unpacked mirror layout, for both registries so terraform and tofu find it.
  for host in registry.terraform.io registry.opentofu.org; do
    local d="$mirror/$host/terraform-provider-openstack/openstack/$v/linux_amd64"
    mkdir -p "$d" && ln -sfn "$bin" "$d/terraform-provider-openstack_v$v"
  done
  cat > "$CACHE/terraformrc" <<RC
# Generated by scripts/build-go.sh: providers come from the local mirror only.
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/terraform-provider-openstack/openstack", "registry.opentofu.org/terraform-provider-openstack/openstack"]
  }
  direct {
    exclude = ["registry.terraform.io/terraform-provider-openstack/openstack", "registry.opentofu.org/terraform-provider-openstack/openstack"]
  }
}
RC
}

build_helm() {
  local dir="$CACHE/go/helm-$HELM_VERSION"
  if [ -x "$dir/helm" ]; then
    skip "helm $HELM_VERSION"
  else
    step "build helm $HELM_VERSION"
    go_build_module helm.sh/helm/v3 "v$HELM_VERSION" ./cmd/helm "$dir/helm"
  fi
  ln -sfn "$dir/helm" "$CACHE/bin/helm"
}

build_schedcheck() {
  local src="$ROOT/tests/contract/schedcheck" dir
  dir="$CACHE/go/schedcheck-$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -c1-12)"
  if [ -x "$dir/schedcheck" ]; then
    skip "schedcheck"
  else
    step "build schedcheck (tests/contract/schedcheck)"
    mkdir -p "$dir"
    (cd "$src" && go build -trimpath -o "$dir/schedcheck.tmp" . && mv "$dir/schedcheck.tmp" "$dir/schedcheck")
  fi
  ln -sfn "$dir/schedcheck" "$CACHE/bin/schedcheck"
}

build_amtool() {
  local dir="$CACHE/go/amtool-$ALERTMANAGER_VERSION"
  if [ -x "$dir/amtool" ]; then
    skip "amtool $ALERTMANAGER_VERSION"
  else
    step "build amtool $ALERTMANAGER_VERSION"
    go_build_module github.com/prometheus/alertmanager "$ALERTMANAGER_VERSION" ./cmd/amtool "$dir/amtool"
  fi
  ln -sfn "$dir/amtool" "$CACHE/bin/amtool"
}

ensure_terraform() {
  local found
  found=$(command -v terraform || true)
  if [ -n "$found" ] && [ "$found" != "$CACHE/bin/terraform" ]; then
    local v
    v=$(terraform version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')
    if version_ge "$v" "$TERRAFORM_MIN_VERSION"; then
      skip "terraform $v on PATH"
      return
    fi
    echo "    terraform $v on PATH is older than $TERRAFORM_MIN_VERSION: building OpenTofu instead"
  fi
  local dir="$CACHE/go/tofu-$OPENTOFU_VERSION"
  if [ -x "$dir/tofu" ]; then
    skip "OpenTofu $OPENTOFU_VERSION"
  else
    step "build OpenTofu $OPENTOFU_VERSION (no terraform >= $TERRAFORM_MIN_VERSION on PATH)"
    go_build_module github.com/opentofu/opentofu "v$OPENTOFU_VERSION" ./cmd/tofu "$dir/tofu"
  fi
  ln -sfn "$dir/tofu" "$CACHE/bin/tofu"
}

for what in "${@:-envtest provider helm terraform}"; do
  for w in $what; do
    case $w in
      envtest) build_envtest ;;
      controllers) build_controllers ;;
      provider) build_provider ;;
      helm) build_helm ;;
      terraform) ensure_terraform ;;
      schedcheck) build_schedcheck ;;
      amtool) build_amtool ;;
      *) die "unknown tool $w" ;;
    esac
  done
done
