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

# The RFC 8785 cross-check of the audit trail's canonical JSON (JCSCrossCheckTests) compares
# with PyPI's rfc8785, an independent implementation; Debian does not package it. Installed
# into Debian's python3 (the one the tests run) after the system packages, only when missing.
packages+=(python3-pip)
install_rfc8785() {
  /usr/bin/python3 -c 'import rfc8785' 2>/dev/null && return 0
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing the Python package rfc8785 (pip)" >&2
    /usr/bin/python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --break-system-packages 'rfc8785==0.1.4' >&2 \
      || echo "setup: could not install rfc8785; JCSCrossCheckTests will skip" >&2
  else
    echo "setup: optional: sudo /usr/bin/python3 -m pip install --break-system-packages rfc8785==0.1.4" >&2
  fi
}

# The Kubernetes objects Warden writes are checked against the API's own OpenAPI schema of
# two minor releases, as the official Python client's wheels carry it in their generated
# models (Tests/ExportChecks/check_k8s_openapi.py reads them as data; nothing is installed).
k8s_wheels=/var/cache/warden-tests/kubernetes-openapi
k8s_client_versions=(35.0.0 36.0.3)
download_k8s_wheels() {
  [[ $(id -u) -eq 0 ]] || { echo "setup: optional (root): the Kubernetes client wheels in $k8s_wheels; the OpenAPI checks skip without them" >&2; return 0; }
  mkdir -p "$k8s_wheels"
  for v in "${k8s_client_versions[@]}"; do
    [[ -f "$k8s_wheels/kubernetes-$v-py2.py3-none-any.whl" ]] && continue
    echo "setup: downloading the Kubernetes client $v wheel (its OpenAPI models) to $k8s_wheels" >&2
    /usr/bin/python3 -m pip download -q --disable-pip-version-check --no-deps -d "$k8s_wheels" "kubernetes==$v" >&2 \
      || echo "setup: could not download kubernetes==$v; the OpenAPI checks will skip" >&2
  done
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  install_rfc8785
  download_k8s_wheels
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
  install_rfc8785
  download_k8s_wheels
else
  echo "setup: missing system packages: ${missing[*]}" >&2
  echo "setup: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
