#!/usr/bin/env bash
# Installs obs's build and test dependencies from Debian 12's packages.
# Idempotent and silent when everything is already present; uses sudo when
# not root.
set -euo pipefail

packages=(
  build-essential cmake pkgconf git curl clang
  libspdlog-dev libfmt-dev prometheus-cpp-dev libcpp-httplib-dev nlohmann-json3-dev libpqxx-dev
  libssl-dev zlib1g-dev libbrotli-dev
  googletest libgtest-dev libgmock-dev
  protobuf-compiler openssl
  prometheus postgresql victoria-metrics
  python3 python3-yaml docker-compose
  # tests/memcheck: example_svc's start, scrapes and shutdown under valgrind's memcheck
  valgrind
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d keeps Debian's prometheus and victoria-metrics packages from starting a system
# service: our tests and demo start their own instances on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
