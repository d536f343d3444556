#!/usr/bin/env bash
# Set up (apt packages, the default model) and run every test, in release mode: the numeric
# and tokenizer tests run 10–100× slower in a debug build.
#   sudo bash Deploy/test.sh       (root is needed only the first time, for apt-get)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$(id -u)" = 0 ] || ! bash Deploy/setup.sh --check >/dev/null 2>&1; then
    bash Deploy/setup.sh
fi
swift build -c release
swift test -c release -Xswiftc -enable-testing --parallel --num-workers 1 "$@"
