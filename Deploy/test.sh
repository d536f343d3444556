#!/usr/bin/env bash
# Set up (apt packages, the default model; idempotent) and run every test, in release mode:
# the numeric and tokenizer tests run 10–100× slower in a debug build.
# Root is needed only while apt packages are missing (the first run on a new machine).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash Deploy/setup.sh
# One build serves both: the tests, and the bertd/bertctl binaries the process-level tests run.
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
# The protocol as a client in another language sees it: pyzmq against the real bertd process.
bash Protocol/tests/run.sh
