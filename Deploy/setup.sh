#!/usr/bin/env bash
# One-time set-up of a fresh Debian 12 machine for building, testing and running bertd.
# Run as root (or with sudo). Idempotent: running it again changes nothing that is already right.
#   - apt packages: libzmq3-dev, libopenblas-dev, libsystemd-dev, pkg-config, python3 + pip
#     (the model fetch and the Python protocol client use them), curl (the HTTP gateway tests),
#     systemd (the systemd sandbox test boots it in namespaces; Debian has it outside containers)
#   - the default model, all-MiniLM-L6-v2, into models/ (Deploy/fetch-model.sh)
#   - a Python virtual environment for the protocol tests (.build/python: pyzmq, jsonschema, pytest,
#     PyYAML for Protocol/openapi.yaml)
# Swift 6 must already be on PATH (https://www.swift.org/install/linux/).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "setup: $*" >&2; }

packages=(libzmq3-dev libopenblas-dev libsystemd-dev pkg-config systemd curl python3 python3-pip python3-venv)
# python3 may come from elsewhere (pyenv): what matters is that it, its pip and venv work.
python_ok=no
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 \
    && python3 -c "import venv, ensurepip" >/dev/null 2>&1 && python_ok=yes
missing=()
for p in "${packages[@]}"; do
    case "$p" in python3|python3-pip|python3-venv) [ "$python_ok" = yes ] && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { say "need root to install: ${missing[*]}"; exit 1; }
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    say "apt packages present: ${packages[*]}"
fi

command -v swift >/dev/null || say "warning: swift is not on PATH; install Swift 6 to build"

"$repo/Deploy/fetch-model.sh"

# The protocol tests are a Python client (pyzmq) talking to a real bertd: give them their own
# environment, so nothing is installed into the system's Python.
venv="$repo/.build/python"
if ! "$venv/bin/python" -c "import zmq, jsonschema, pytest, yaml" 2>/dev/null; then
    say "creating $venv with pyzmq, jsonschema, pytest, pyyaml"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pyzmq jsonschema pytest pyyaml websocket-client
else
    say "python test environment present ($venv)"
fi
say "done"
