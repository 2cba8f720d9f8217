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
#   buildkit    BuildKit's buildkitd (OCI worker: Debian's runc) and buildctl, which build the
#               platform's images (scripts/images.sh)
#   registry    the distribution registry (v3) the images are pushed to in the tests
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

# built BINARY NAME: true (and says so) when BINARY is already built, else announces its build.
built() {
  if [ -x "$1" ]; then skip "$2"; return 0; fi
  step "build $2"
  return 1
}

# go_build DIR PACKAGE OUTPUT [LDFLAGS]: build a main package inside DIR, so DIR's own
# go.mod (and replace directives) apply. Stripped (-s -w), as Kubernetes' own release
# builds are: the symbol and DWARF tables are a large part of each link, and nobody
# debugs these binaries here.
go_build() {
  local dir=$1 pkg=$2 out=$3 ldflags=${4:-} start=$SECONDS
  mkdir -p "$(dirname "$out")"
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") && mv "$out.tmp" "$out"
  echo "    built $(basename "$out") in $((SECONDS - start)) s"
}

module_dir() { # module_dir MODULE VERSION: where the Go proxy's copy of it is unpacked
  (cd "$ROOT" && GOFLAGS=-mod=mod go mod download -json "$1@$2" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
}

# go_build_module MODULE VERSION PACKAGE OUTPUT [LDFLAGS]: go_build in the Go proxy's copy
# of MODULE. `go install pkg@version` would also ask the proxy for the module's version
# list, which the proxy here refuses for some modules.
go_build_module() {
  local dir
  dir=$(module_dir "$1" "$2")
  shift 2
  go_build "$dir" "$@"
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
  local dir="$CACHE/envtest/v${KUBERNETES_VERSION}-etcd${ETCD_VERSION}"
  built "$dir/etcd" "etcd $ETCD_VERSION" || go_build "$ROOT/tests/envtest/etcd" . "$dir/etcd"
  # One multi-call binary (tests/envtest/kubernetes/main.go), run by the names linked to it.
  built "$dir/kube" "Kubernetes $KUBERNETES_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler)" \
    || go_build "$ROOT/tests/envtest/kubernetes" . "$dir/kube" "$(k8s_ldflags)"
  for name in kube-apiserver kube-controller-manager kube-scheduler; do ln -sfn kube "$dir/$name"; done
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
  if ! built "$dir/kwok" "kwok $KWOK_VERSION"; then
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
  if ! built "$dir/bin/argocd" "ArgoCD $v from $src-src.tar.gz"; then
    [ -f "$src-src.tar.gz" ] || die "$src-src.tar.gz is missing (../shared beside the checkout)"
    rm -rf "$dir/src" && mkdir -p "$dir/src" "$dir/bin"
    tar -xzf "$src-src.tar.gz" -C "$dir/src" --strip-components=1
    tar -xzf "$src-image-scripts.tar.gz" -C "$dir/bin" --strip-components=2 --wildcards '*/hack/*.sh'
    # The release's commit, as PROVENANCE.md records it: `argocd version` then says v$v.
    local pkg=github.com/argoproj/argo-cd/v3/common commit
    commit=$(grep -F "src/argo-cd-v$v-src.tar.gz" "$FIXTURES/PROVENANCE.md" | grep -o '[0-9a-f]\{40\}' | head -n1)
    mkdir -p "$dir/src/cmd/mlops-local" && cp "$ROOT/tests/envtest/argocd/main.go" "$dir/src/cmd/mlops-local/"
    go_build "$dir/src" ./cmd/mlops-local "$dir/bin/argocd" \
      "-X $pkg.version=$v -X $pkg.gitTag=v$v -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean"
  fi
  for name in argocd argocd-application-controller argocd-repo-server git-verify-wrapper.sh gpg-wrapper.sh; do
    link "$dir/bin/$( [ "${name%.sh}" = "$name" ] && echo argocd || echo "$name")" "$out/$name"
  done
}

build_rollouts() {
  local out=$1 dir="$CACHE/go/argo-rollouts-$ARGO_ROLLOUTS_VERSION" pkg=github.com/argoproj/argo-rollouts/utils/version
  built "$dir/rollouts-controller" "Argo Rollouts $ARGO_ROLLOUTS_VERSION" \
    || go_build_module github.com/argoproj/argo-rollouts "v$ARGO_ROLLOUTS_VERSION" ./cmd/rollouts-controller \
      "$dir/rollouts-controller" "-X $pkg.version=v$ARGO_ROLLOUTS_VERSION -X $pkg.gitTreeState=clean"
  link "$dir/rollouts-controller" "$out/rollouts-controller"
}

# The Prometheus Operator kube-prometheus-stack's pinned chart runs: it turns the chart's
# Prometheus and Alertmanager into StatefulSets and reports their health.
build_prometheus_operator() {
  local out=$1 v=$PROMETHEUS_OPERATOR_VERSION dir="$CACHE/go/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
  local module=github.com/prometheus-operator/prometheus-operator
  if ! built "$dir/prometheus-operator" "Prometheus Operator $v"; then
    # Its go.mod replaces two nested modules by directories that the module's zip leaves
    # out: lay the three out as the repository has them (each from the Go proxy).
    rm -rf "$dir/src" && mkdir -p "$dir/src/pkg/apis"
    cp -r "$(module_dir "$module" "v$v")/." "$dir/src/"
    chmod -R u+w "$dir/src"
    rm -rf "$dir/src/pkg/apis/monitoring" "$dir/src/pkg/client"
    cp -r "$(module_dir "$module/pkg/apis/monitoring" "v$v")" "$dir/src/pkg/apis/monitoring"
    cp -r "$(module_dir "$module/pkg/client" "v$v")" "$dir/src/pkg/client"
    chmod -R u+w "$dir/src"
    go_build "$dir/src" ./cmd/operator "$dir/prometheus-operator" "-X github.com/prometheus/common/version.Version=$v"
  fi
  link "$dir/prometheus-operator" "$out/prometheus-operator"
}

build_provider() {
  local v=$OPENSTACK_PROVIDER_VERSION mirror="$CACHE/terraform-mirror"
  local bin="$CACHE/go/provider-$v/terraform-provider-openstack"
  # The checksum database does not list this module; the module proxy serves it.
  built "$bin" "terraform-provider-openstack v$v" || GONOSUMDB=github.com/terraform-provider-openstack \
    go_build_module github.com/terraform-provider-openstack/terraform-provider-openstack/v3 "v$v" . "$bin"
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
  built "$dir/helm" "helm $HELM_VERSION" || go_build_module helm.sh/helm/v3 "v$HELM_VERSION" ./cmd/helm "$dir/helm"
  ln -sfn "$dir/helm" "$CACHE/bin/helm"
}

build_schedcheck() {
  local src="$ROOT/tests/contract/schedcheck" dir
  dir="$CACHE/go/schedcheck-$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -c1-12)"
  built "$dir/schedcheck" "schedcheck (tests/contract/schedcheck)" || go_build "$src" . "$dir/schedcheck"
  ln -sfn "$dir/schedcheck" "$CACHE/bin/schedcheck"
}

build_amtool() {
  local dir="$CACHE/go/amtool-$ALERTMANAGER_VERSION"
  built "$dir/amtool" "amtool $ALERTMANAGER_VERSION" \
    || go_build_module github.com/prometheus/alertmanager "$ALERTMANAGER_VERSION" ./cmd/amtool "$dir/amtool"
  ln -sfn "$dir/amtool" "$CACHE/bin/amtool"
}

build_buildkit() {
  local v=$BUILDKIT_VERSION dir="$CACHE/go/buildkit-$BUILDKIT_VERSION" pkg=github.com/moby/buildkit/version
  for cmd in buildkitd buildctl; do
    built "$dir/$cmd" "$cmd $v" || go_build_module github.com/moby/buildkit "v$v" "./cmd/$cmd" "$dir/$cmd" \
      "-X $pkg.Version=v$v -X $pkg.Package=github.com/moby/buildkit"
    ln -sfn "$dir/$cmd" "$CACHE/bin/$cmd"
  done
}

build_registry() { # the version the platform's registry image runs (versions.env REGISTRY_IMAGE)
  local v=${REGISTRY_IMAGE##*:}
  local dir="$CACHE/go/registry-$v"
  built "$dir/registry" "registry $v" || go_build_module github.com/distribution/distribution/v3 "v$v" \
    ./cmd/registry "$dir/registry" "-X github.com/distribution/distribution/v3/version.version=v$v"
  ln -sfn "$dir/registry" "$CACHE/bin/registry"
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
  built "$dir/tofu" "OpenTofu $OPENTOFU_VERSION (no terraform >= $TERRAFORM_MIN_VERSION on PATH)" \
    || go_build_module github.com/opentofu/opentofu "v$OPENTOFU_VERSION" ./cmd/tofu "$dir/tofu"
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
      buildkit) build_buildkit ;;
      registry) build_registry ;;
      *) die "unknown tool $w" ;;
    esac
  done
done
