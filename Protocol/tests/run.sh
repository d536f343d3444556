#!/usr/bin/env bash
# The protocol tests: the Python client and raw ZeroMQ sockets against real bertd processes.
# Builds nothing: expects .build/release/bertd (swift build -c release) and the default model in
# models/ (Deploy/fetch-model.sh). Python: $BERTD_PYTHON, else the venv Deploy/setup.sh makes
# (.build/python), else python3; it needs pyzmq, jsonschema, pytest and PyYAML.
# Extra arguments go to pytest (e.g. -k curve, -x). Exits with pytest's status.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
python="${BERTD_PYTHON:-}"
if [ -z "$python" ]; then
    if [ -x .build/python/bin/python ]; then python=.build/python/bin/python; else python=python3; fi
fi
if ! "$python" -c "import zmq, jsonschema, pytest, yaml" 2>/dev/null; then
    echo "protocol tests: $python lacks pyzmq, jsonschema, pytest or PyYAML (python3 -m pip install pyzmq jsonschema pytest pyyaml)" >&2
    exit 2
fi
if [ ! -x "${BERTD_BIN:-.build/release/bertd}" ]; then
    echo "protocol tests: ${BERTD_BIN:-.build/release/bertd} is missing; run: swift build -c release" >&2
    exit 2
fi
# A hard bound on the whole run (the suite takes 1–3 minutes on 2 cores).
PYTHONDONTWRITEBYTECODE=1 timeout --kill-after=30 900 "$python" -m pytest Protocol/tests -q -p no:cacheprovider -rfEsx "$@"
status=$?
[ "$status" -eq 124 ] && echo "protocol tests: timed out after 900 s" >&2
exit "$status"
