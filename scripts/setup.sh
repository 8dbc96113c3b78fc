#!/usr/bin/env bash
# Installs the system packages Warden needs, only when something is missing.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
set -euo pipefail

packages=(libseccomp-dev libcap-dev libsqlite3-dev pkg-config gcc make python3 python3-jsonschema python3-yaml runc curl git openssl)
# Toolchains of the workload matrix (Tests/WardenCLITests/Workloads): installed from Debian
# when the command is missing, so a machine that already has one (rustup's cargo, a newer
# node) keeps it. WARDEN_SETUP_WORKLOADS=0 skips them; the matrix then skips those cells.
if [[ "${WARDEN_SETUP_WORKLOADS:-1}" != "0" ]]; then
  command -v cmake >/dev/null || packages+=(cmake)
  command -v go >/dev/null || packages+=(golang-go)
  command -v cargo >/dev/null || packages+=(cargo)
  command -v javac >/dev/null || packages+=(default-jdk-headless)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
  packages+=(python3-venv python3-pytest python3-requests)  # python3-requests: a client of the broker e2e tests
fi
# `make dist` (dpkg-shlibdeps) and `make test-dist` (debootstrap; it needs root anyway).
packages+=(dpkg-dev)
[[ $(id -u) -eq 0 ]] && packages+=(debootstrap)
[[ "${WARDEN_SETUP_EXTRA:-}" != "" ]] && read -r -a extra <<<"$WARDEN_SETUP_EXTRA" && packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: missing system packages: ${missing[*]}" >&2
  echo "setup: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
