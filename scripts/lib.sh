# Shared helpers for the install scripts: paths, logging, stamps keyed by version.
# shellcheck shell=bash
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../versions.env
source "$ROOT/versions.env"
CACHE="$ROOT/.cache"
VENV="$CACHE/venv"
mkdir -p "$CACHE/bin" "$CACHE/stamps"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
skip() { printf '    %s: cached\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# stamp NAME KEY: true when step NAME already ran with this KEY.
stamp_ok() { [ -f "$CACHE/stamps/$1" ] && [ "$(cat "$CACHE/stamps/$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" > "$CACHE/stamps/$1"; }

need() { # need COMMAND HOW-TO-GET-IT
  command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed: $2"
}

version_ge() { # version_ge A B: A >= B
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

apt_install() { # apt_install PACKAGE... (only the missing ones)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need apt-get "install ${missing[*]} with your distribution's package manager"
  step "apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install_servers() { # apt_install for packages that ship a daemon: none starts
  # Their maintainer scripts would start system-wide services (on every interface):
  # policy-rc.d 101 ("not allowed") denies that for the duration of the install; the
  # platform's tools start what they need on 127.0.0.1 by pid.
  local policy=/usr/sbin/policy-rc.d created=""
  if [ ! -e "$policy" ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created=1
  fi
  apt_install "$@"
  if [ -n "$created" ]; then rm -f "$policy"; fi
}
