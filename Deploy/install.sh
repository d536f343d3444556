#!/usr/bin/env bash
# Install bertd as a systemd service. Run as root from a clone of this repository (after
# Deploy/setup.sh). Idempotent: running it again updates the binaries and the unit, and keeps
# an existing /etc/bertd/bertd.toml and model.
#
#   1. builds bertd and bertctl with the Swift runtime linked in statically
#      (swift build -c release --static-swift-stdlib), so they run as the unit's dynamic user
#      without /opt/swift, and checks with ldd that no libswift*.so is needed;
#   2. installs them to /usr/local/bin, bertctl's completion scripts (bertctl completions) to
#      /usr/share/bash-completion/completions/bertctl, /usr/share/zsh/vendor-completions/_bertctl
#      and /usr/share/fish/vendor_completions.d/bertctl.fish, the unit to
#      /etc/systemd/system/bertd.service, Deploy/bertd.toml to /etc/bertd/bertd.toml (only if absent);
#   3. puts the default model (Deploy/fetch-model.sh) in the state directory. With DynamicUser=
#      the state directory is /var/lib/private/bertd (systemd links /var/lib/bertd to it); the
#      model is copied there as root and systemd hands it to the dynamic user on start
#      (StateDirectory= fixes ownership recursively when the owner does not match);
#   4. systemctl daemon-reload (and, with --start, enable --now / restart).
#
# Usage: sudo Deploy/install.sh [--root DIR] [--binaries DIR [--allow-dynamic]] [--no-model] [--start]
#   --root DIR       install under DIR instead of / (e.g. /proc/PID/root of a systemd-sandbox);
#                    nothing is reloaded or started: do that inside DIR's systemd
#   --binaries DIR   install DIR/bertd and DIR/bertctl instead of building
#   --allow-dynamic  accept binaries that load libswift*.so (tests in a systemd-sandbox, where
#                    /opt/swift is visible); never for a real installation
#   --no-model       leave the state directory alone
#   --start          enable bertd and (re)start it
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "install: $*" >&2; }
die() { say "$*"; exit 1; }

root="" binaries="" model=yes start=no dynamic=no
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root="${2:?--root needs a directory}"; shift 2 ;;
        --binaries) binaries="${2:?--binaries needs a directory}"; shift 2 ;;
        --allow-dynamic) dynamic=yes; shift ;;
        --no-model) model=no; shift ;;
        --start) start=yes; shift ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ "$(id -u)" = 0 ] || die "run as root (it writes /usr/local/bin, /usr/share, /etc and /var/lib)"
root="${root%/}"

# 1. Binaries: statically linked Swift runtime.
if [ -z "$binaries" ]; then
    command -v swift >/dev/null || die "swift is not on PATH (or pass --binaries DIR)"
    scratch="$repo/.build-static"
    say "building bertd and bertctl (release, --static-swift-stdlib) in $scratch"
    for product in bertd bertctl; do
        (cd "$repo" && swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product")
    done
    binaries="$scratch/release"
fi
for binary in bertd bertctl; do
    [ -x "$binaries/$binary" ] || die "$binaries/$binary is missing"
    ldd "$binaries/$binary" | grep -E 'not found' >&2 && die "$binaries/$binary needs libraries that are not installed"
    if [ "$dynamic" = no ] && ldd "$binaries/$binary" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime' >&2; then
        die "$binaries/$binary needs the libraries above at run time; build it with --static-swift-stdlib"
    fi
done
install -d -m 0755 "$root/usr/local/bin"
install -m 0755 "$binaries/bertd" "$binaries/bertctl" "$root/usr/local/bin/"
say "installed bertd and bertctl in $root/usr/local/bin"
for completion in bash:usr/share/bash-completion/completions/bertctl zsh:usr/share/zsh/vendor-completions/_bertctl \
                  fish:usr/share/fish/vendor_completions.d/bertctl.fish; do
    shell="${completion%%:*}" file="$root/${completion#*:}"
    install -d -m 0755 "$(dirname "$file")"
    "$root/usr/local/bin/bertctl" completions "$shell" >"$file.tmp"
    chmod 0644 "$file.tmp"
    mv "$file.tmp" "$file"
done
say "installed bertctl's completions for bash, zsh and fish in $root/usr/share"

# 2. Unit and configuration.
unit="$root/etc/systemd/system/bertd.service"
install -d -m 0755 "$root/etc/systemd/system" "$root/etc/bertd"
if ! cmp -s "$repo/Deploy/bertd.service" "$unit"; then
    install -m 0644 "$repo/Deploy/bertd.service" "$unit"
    say "installed $unit"
fi
if [ -e "$root/etc/bertd/bertd.toml" ]; then
    say "keeping $root/etc/bertd/bertd.toml (the shipped example is $repo/Deploy/bertd.toml)"
else
    install -m 0644 "$repo/Deploy/bertd.toml" "$root/etc/bertd/bertd.toml"
    say "installed $root/etc/bertd/bertd.toml"
fi
"$root/usr/local/bin/bertd" --config "$root/etc/bertd/bertd.toml" --check-config >/dev/null ||
    die "$root/etc/bertd/bertd.toml does not pass bertd --check-config"

# 3. The default model, in the state directory the unit's StateDirectory=bertd uses.
if [ "$model" = yes ]; then
    state="$root/var/lib/private/bertd"
    dest="$state/models/all-MiniLM-L6-v2"
    if [ -f "$dest/model.safetensors" ]; then
        say "keeping the model in $dest"
    else
        cache="$repo/models/all-MiniLM-L6-v2"
        "$repo/Deploy/fetch-model.sh" "$cache"   # no-op when already fetched and its sha256 is right
        install -d -m 0700 "$root/var/lib/private"
        install -d -m 0755 "$state" "$state/models"
        rm -rf "$dest.tmp"
        cp -r "$cache" "$dest.tmp"
        chmod -R u=rwX,go=rX "$dest.tmp"
        # Same owner as the state directory: root before the first start (systemd then chowns it
        # all to the dynamic user), the dynamic user's UID afterwards.
        chown -R --reference="$state" "$dest.tmp"
        mv "$dest.tmp" "$dest"
        say "installed the model in $dest"
    fi
    # systemd creates the /var/lib/bertd → private/bertd link on start; create it now so the
    # path in bertd.toml works before that too.
    [ -e "$root/var/lib/bertd" ] || ln -s private/bertd "$root/var/lib/bertd"
fi

# 4. Tell systemd.
if [ -n "$root" ]; then
    say "done; inside $root run: systemctl daemon-reload && systemctl start bertd"
elif [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    if [ "$start" = yes ]; then
        systemctl enable bertd
        systemctl restart bertd
        say "bertd is $(systemctl is-active bertd)"
    else
        say "done; start it with: systemctl enable --now bertd"
    fi
else
    say "done; systemd is not running here (PID 1 is $(ps -o comm= -p 1)), so nothing was reloaded"
fi
