#!/usr/bin/env bash
# The platform's images, built by BuildKit and pushed to a registry:
#   python-base    Debian $IMAGES_DEBIAN_SUITE minbase with python3, python3-venv and
#                  ca-certificates, user 10001 (app); its rootfs is made by debootstrap into
#                  .cache/images (the tarball keyed by suite, packages and recipe, not by date)
#                  and turned into an image by BuildKit (FROM scratch, ADD rootfs.tar)
#   digits-serve   apps/digits' Containerfile, --target serve (EXTRA=serve), FROM the base by digest
#   digits-train   the same, --target train (EXTRA=train)
#   platform-tools images/platform-tools/Containerfile (ansible and this collection: the
#                  workflows' deploy and registry steps), FROM the base, context the repository
#
# Usage:
#   scripts/images.sh rootfs       only the base's rootfs tarball (make test-deps makes it)
#   scripts/images.sh [--tag TAG] [--context DIR] [--images "base serve train tools"] [--prefix mlops]
#                     [--model NAME=VERSION] [--report FILE] REGISTRY
# --model: the serve image's build fetches that MLflow model version (from MLFLOW_TRACKING_URI)
# into the image, as the build-container-image workflow builds it.
# REGISTRY is host:port (HTTPS). Environment:
#   REGISTRY_USER, REGISTRY_PASSWORD  the registry's credentials (never on a command line)
#   REGISTRY_CA       the CA bundle its certificate is checked with (default: the system's)
#   BUILDKIT_HOST     a running buildkitd that trusts REGISTRY (buildctl's own variable); unset:
#                     one is started for this run (as root, OCI worker on runc, host network so a
#                     build's pip reaches PyPI, its cache in .cache/buildkit) and stopped after
#   BUILD_CA_BUNDLE   the CA bundle a build's pip trusts (default: this host's, so a TLS-inspecting
#                     proxy works); BUILD_PIP_CONF: a pip.conf for the build (a private index)
#   SOURCE_DATE_EPOCH the images' timestamps (default 0): the same inputs make the same digest
#
# Tags never move. Each image is pushed by digest, then tagged <version>-<first 12 hex of its
# digest> (the base: <suite>-<12 hex>; the applications: their version, or TAG). A tag that
# already names another digest is refused (the registry cannot enforce that; this does); the same
# digest is left as it is. One line per image: reference, digest, compressed and unpacked size.
source "$(dirname "$0")/lib.sh"

IMAGES="$CACHE/images"
SUITE=$IMAGES_DEBIAN_SUITE
BASE_PACKAGES=python3,python3-venv,ca-certificates

# base_rootfs: the tarball of the base's root filesystem, made once per suite and recipe (this
# function's own text is part of its key, so a changed recipe makes a new tarball).
base_rootfs() {
  local key rootfs log
  key=$(printf '%s\n%s\n%s\n' "$SUITE" "$BASE_PACKAGES" "$(declare -f base_rootfs)" | sha256sum | cut -c1-12)
  ROOTFS_TAR="$IMAGES/rootfs-$SUITE-$key.tar"
  if [ -f "$ROOTFS_TAR" ]; then skip "rootfs Debian $SUITE ($(basename "$ROOTFS_TAR"))"; return; fi
  need debootstrap "apt-get install debootstrap"
  step "debootstrap Debian $SUITE minbase + $BASE_PACKAGES"
  rootfs="$IMAGES/rootfs-$SUITE.tmp" log="$IMAGES/debootstrap-$SUITE.log"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$log" 2>&1 \
    || { tail -n 20 "$log"; die "debootstrap failed (log: $log)"; }
  chroot "$rootfs" useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin app
  # What an image never needs: apt's caches and lists, logs, docs (the copyrights stay), man
  # pages, translations, device nodes and this host's identity (a runtime provides its own).
  (cd "${rootfs:?}" && rm -rf dev/* var/cache/apt/* var/lib/apt/lists/* usr/share/man/* usr/share/info/* \
    usr/share/locale/* var/cache/debconf/*-old var/lib/dpkg/*-old etc/hostname etc/resolv.conf)
  find "$rootfs"/var/log -type f -delete
  find "$rootfs"/usr/share/doc -type f ! -name copyright -delete
  find "$rootfs"/usr/share/doc -depth -type d -empty -delete
  : > "$rootfs/etc/machine-id"
  tar --numeric-owner --sort=name -C "$rootfs" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$rootfs"
  find "$IMAGES" -maxdepth 1 -name "rootfs-$SUITE-*.tar" ! -name "$(basename "$ROOTFS_TAR")" -delete
  echo "    $(basename "$ROOTFS_TAR"): $(du -m "$ROOTFS_TAR" | cut -f1) MB, $(grep -o '^[0-9.]*' \
    <(tar -xOf "$ROOTFS_TAR" ./etc/debian_version)) ($(tar -tf "$ROOTFS_TAR" | wc -l) entries)"
}

mkdir -p "$IMAGES"
if [ "${1:-}" = rootfs ]; then base_rootfs; exit 0; fi

TAG="" CONTEXT="$ROOT/apps/digits" WANTED="base serve train" PREFIX=mlops REPORT="" MODEL=""
while [ $# -gt 1 ]; do
  case $1 in
    --tag) TAG=$2 ;;
    --context) CONTEXT=$(cd "$2" && pwd) ;;
    --images) WANTED=$2 ;;
    --prefix) PREFIX=$2 ;;
    --report) REPORT=$2 ;;
    --model) MODEL=$2 ;;
    *) die "unknown option $1 (usage: scripts/images.sh [--tag TAG] [--context DIR] [--images LIST] [--prefix P] [--model NAME=VERSION] [--report FILE] REGISTRY)" ;;
  esac
  shift 2
done
[ $# -eq 1 ] || die "usage: scripts/images.sh [options] REGISTRY (host:port)"
REGISTRY=$1
[ -n "${REGISTRY_USER:-}" ] && [ -n "${REGISTRY_PASSWORD:-}" ] || die "REGISTRY_USER and REGISTRY_PASSWORD must be set"
[ -z "$TAG" ] || [[ $TAG =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "--tag $TAG: not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
[ -f "$CONTEXT/Containerfile" ] || die "--context $CONTEXT: no Containerfile there"
model_args=()
if [ -n "$MODEL" ]; then
  [[ $MODEL =~ ^[^=]+=[0-9]{1,10}$ ]] || die "--model $MODEL: give NAME=VERSION (an MLflow model version)"
  [ -n "${MLFLOW_TRACKING_URI:-}" ] || die "--model needs MLFLOW_TRACKING_URI (the build fetches the version from there)"
  model_args=(--opt "build-arg:MODEL_NAME=${MODEL%=*}" --opt "build-arg:MODEL_VERSION=${MODEL#*=}"
              --opt "build-arg:MLFLOW_TRACKING_URI=$MLFLOW_TRACKING_URI")
fi
for cmd in buildctl buildkitd; do PATH="$CACHE/bin:$PATH" need "$cmd" "scripts/build-go.sh buildkit"; done
export PATH="$CACHE/bin:$PATH"
EPOCH=${SOURCE_DATE_EPOCH:-0}

RUN=$(mktemp -d "${TMPDIR:-/tmp}/images.XXXXXX")
BUILDKITD_PID=""
cleanup() {
  if [ -n "$BUILDKITD_PID" ]; then kill "$BUILDKITD_PID" 2>/dev/null; wait "$BUILDKITD_PID" 2>/dev/null; fi
  rm -rf "$RUN"
}
trap cleanup EXIT

# Credentials: buildctl's session reads them from DOCKER_CONFIG; curl from a config file.
(
  umask 077
  mkdir -p "$RUN/docker"
  auth=$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | base64 -w0)
  printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REGISTRY" "$auth" > "$RUN/docker/config.json"
  pair="$REGISTRY_USER:$REGISTRY_PASSWORD" && pair=${pair//\\/\\\\} && pair=${pair//\"/\\\"}
  printf 'user = "%s"\n' "$pair" > "$RUN/curlrc" # curl's config quoting: \ and " escaped
)
export DOCKER_CONFIG="$RUN/docker"
CURL=(curl -sS --config "$RUN/curlrc")
[ -z "${REGISTRY_CA:-}" ] || CURL+=(--cacert "$REGISTRY_CA")
ACCEPT="application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json"
ACCEPT+=",application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json"

if [ -z "${BUILDKIT_HOST:-}" ]; then
  step "buildkitd (OCI worker, runc, cache in .cache/buildkit)"
  need runc "apt-get install runc"
  [ "$(id -u)" -eq 0 ] || die "buildkitd runs as root here: run as root or set BUILDKIT_HOST"
  { # HTTPS even on loopback (BuildKit's default for localhost and 127.0.0.1 is plain HTTP)
    printf '[registry."%s"]\n  http = false\n' "$REGISTRY"
    [ -z "${REGISTRY_CA:-}" ] || printf '  ca = ["%s"]\n' "$REGISTRY_CA"
  } > "$RUN/buildkitd.toml"
  buildkitd --root "$CACHE/buildkit" --addr "unix://$RUN/buildkitd.sock" --config "$RUN/buildkitd.toml" \
    --oci-worker-binary runc --oci-worker-net host --containerd-worker false > "$RUN/buildkitd.log" 2>&1 &
  BUILDKITD_PID=$!
  export BUILDKIT_HOST="unix://$RUN/buildkitd.sock"
  for _ in $(seq 100); do buildctl debug workers >/dev/null 2>&1 && break; sleep 0.2; done
  buildctl debug workers >/dev/null 2>&1 || { tail -n 20 "$RUN/buildkitd.log"; die "buildkitd did not start"; }
fi

# build NAME REPOSITORY TAG-PREFIX DIR FILE [BUILDCTL-ARG...]: build, push by digest, tag; sets REF.
build() {
  local name=$1 repo="$REGISTRY/$PREFIX/$2" prefix=$3 dir=$4 file=$5 start=$SECONDS digest tag
  shift 5
  local log="$IMAGES/logs/$name.log" secrets=()
  mkdir -p "$IMAGES/logs"
  local ca=${BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
  [ ! -f "$ca" ] || secrets+=(--secret "id=ca-certificates.crt,src=$ca")
  [ -z "${BUILD_PIP_CONF:-}" ] || secrets+=(--secret "id=pip.conf,src=$BUILD_PIP_CONF")
  step "build $name"
  buildctl build --frontend dockerfile.v0 --local context="$dir" --local dockerfile="$(dirname "$file")" \
    --opt filename="$(basename "$file")" --opt build-arg:SOURCE_DATE_EPOCH="$EPOCH" "$@" "${secrets[@]}" \
    --output "type=image,name=$repo,push-by-digest=true,push=true,oci-mediatypes=true" \
    --metadata-file "$RUN/$name.json" --progress plain > "$log" 2>&1 \
    || { tail -n 30 "$log"; die "$name: build failed (log: $log)"; }
  digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["containerimage.digest"])' "$RUN/$name.json")
  if [ "$name" != base ] && [ -n "$TAG" ]; then tag=$TAG; else tag=$prefix-${digest:7:12}; fi
  tag_image "$name" "$repo" "$digest" "$tag"
  REF="$repo:$tag@$digest"
  report "$name" "$repo" "$tag" "$digest" $((SECONDS - start))
}

# tag_image NAME REPOSITORY DIGEST TAG: point TAG at DIGEST unless TAG names another image.
tag_image() {
  local name=$1 repo=$2 digest=$3 tag=$4 path=${2#"$REGISTRY"/} headers current type
  headers=$("${CURL[@]}" -o /dev/null -D - -H "Accept: $ACCEPT" "https://$REGISTRY/v2/$path/manifests/$tag")
  case $(head -n1 <<<"$headers" | awk '{print $2}') in
    200)
      current=$(grep -i '^docker-content-digest:' <<<"$headers" | awk '{print $2}' | tr -d '\r')
      [ "$current" = "$digest" ] || die "$name: refusing to move tag $repo:$tag from $current to $digest (tags are immutable: give another --tag)"
      echo "    $repo:$tag already names $digest" ;;
    404)
      "${CURL[@]}" -f -H "Accept: $ACCEPT" -o "$RUN/manifest" -D "$RUN/manifest.headers" \
        "https://$REGISTRY/v2/$path/manifests/$digest" || die "$name: pushed $digest is not in $repo"
      type=$(grep -i '^content-type:' "$RUN/manifest.headers" | awk '{print $2}' | tr -d '\r')
      "${CURL[@]}" -f -X PUT -H "Content-Type: $type" --data-binary "@$RUN/manifest" -o /dev/null \
        "https://$REGISTRY/v2/$path/manifests/$tag" || die "$name: could not tag $digest as $repo:$tag" ;;
    *) die "$name: $REGISTRY answered $(head -n1 <<<"$headers" | tr -d '\r') for $repo:$tag" ;;
  esac
}

# report NAME REPOSITORY TAG DIGEST SECONDS: the image's compressed size (its manifest's layers)
# and unpacked size (each layer decompressed, remembered by digest in .cache/images/layer-sizes),
# printed and, with --report, added to that file as a JSON line.
report() {
  local name=$1 repo=$2 tag=$3 digest=$4 seconds=$5 path=${2#"$REGISTRY"/} layer size known
  local count=0 compressed=0 unpacked=0
  "${CURL[@]}" -f -H "Accept: $ACCEPT" -o "$RUN/manifest" "https://$REGISTRY/v2/$path/manifests/$digest"
  touch "$IMAGES/layer-sizes"
  while read -r layer size; do
    known=$(awk -v d="$layer" '$1 == d {print $2}' "$IMAGES/layer-sizes")
    if [ -z "$known" ]; then
      known=$("${CURL[@]}" -f -L "https://$REGISTRY/v2/$path/blobs/$layer" | gzip -dc | wc -c)
      echo "$layer $known" >> "$IMAGES/layer-sizes"
    fi
    count=$((count + 1)) compressed=$((compressed + size)) unpacked=$((unpacked + known))
  done < <(python3 -c 'import json,sys; [print(l["digest"], l["size"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$RUN/manifest")
  echo "    $repo:$tag"
  awk -v d="$digest" -v n="$count" -v c="$compressed" -v u="$unpacked" -v s="$seconds" 'BEGIN {
    printf "    %s, %d layers, %.1f MB compressed, %.1f MB unpacked; built and pushed in %d s\n", d, n, c / 1e6, u / 1e6, s }'
  [ -z "$REPORT" ] || printf '{"image": "%s", "ref": "%s:%s@%s", "digest": "%s", "layers": %d, "compressed": %d, "unpacked": %d, "seconds": %d}\n' \
    "$name" "$repo" "$tag" "$digest" "$digest" "$count" "$compressed" "$unpacked" "$seconds" >> "$REPORT"
}

base_rootfs
# The base: its own small context (the tarball, hard-linked, and a Containerfile).
ctx="$IMAGES/base-context"
rm -rf "$ctx" && mkdir -p "$ctx"
ln "$ROOTFS_TAR" "$ctx/rootfs.tar" 2>/dev/null || cp "$ROOTFS_TAR" "$ctx/rootfs.tar"
cat > "$ctx/Containerfile" <<EOF
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["python3"]
EOF
build base python-base "$SUITE" "$ctx" "$ctx/Containerfile"
BASE=$REF

# The application: BuildKit reads ignore patterns from <Containerfile>.dockerignore beside the
# Containerfile (podman and buildah read .containerignore): hand it the context's file.
app_version=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$CONTEXT/pyproject.toml")
mkdir -p "$RUN/app"
cp "$CONTEXT/Containerfile" "$RUN/app/Containerfile"
[ ! -f "$CONTEXT/.containerignore" ] || cp "$CONTEXT/.containerignore" "$RUN/app/Containerfile.dockerignore"
for image in $WANTED; do
  case $image in
    base) ;;
    serve | train)
      extra=()
      [ "$image" != serve ] || extra=("${model_args[@]}")
      build "$image" "digits-$image" "$app_version" "$CONTEXT" "$RUN/app/Containerfile" \
        --opt target="$image" --opt build-arg:EXTRA="$image" --opt build-arg:BASE="$BASE" "${extra[@]}" ;;
    tools)
      # Only what the image copies, from the repository's root (its ignore file: an allowlist).
      cp "$ROOT/images/platform-tools/Containerfile" "$RUN/app/Tools.Containerfile"
      printf '*\n!galaxy.yml\n!versions.env\n!meta\n!plugins\n!roles\n!playbooks\n**/__pycache__\n' \
        > "$RUN/app/Tools.Containerfile.dockerignore"
      collection=$(sed -n 's/^version: *//p' "$ROOT/galaxy.yml")
      build tools platform-tools "$collection" "$ROOT" "$RUN/app/Tools.Containerfile" \
        --opt build-arg:BASE="$BASE" --opt build-arg:ANSIBLE_VERSION="$ANSIBLE_VERSION" ;;
    *) die "unknown image $image (base, serve, train, tools)" ;;
  esac
done
