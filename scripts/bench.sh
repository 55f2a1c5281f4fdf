#!/usr/bin/env bash
# Side-by-side benchmark: ftp-mirror against lftp, rclone, wget, curl and a
# Python ftplib session pool, all mirroring from pyftpdlib (and ftp-mirror
# also from our ftp-serve). See docs/benchmarks.md.
#
# Usage:
#   scripts/bench.sh [--quick|--full] [--trees a,b] [--rtt 0,20,100] [--sessions 8,16] [--runs 3]
#                    [--tools ftp-mirror,lftp,...] [--servers pyftpdlib,ftp-serve] [--no-rerun]
#                    [--skip-missing] [--no-doc] [--out DIR]
#   scripts/bench.sh --setup      only install the peers and the venv, then exit
#
# Setup done on every run when something is missing:
#   - the peers, with this one command (as root, or through sudo):
#       apt-get update && apt-get install -y lftp rclone wget curl
#   - .venv in the repository root with pyftpdlib (the benchmark server),
#   - target/release/ftp-mirror (cargo build --release -p ftp-mirror-cli),
#     unless FTP_MIRROR_BIN names another binary,
#   - target/release/mirror-bench and bench-exec
#     (cargo build --release -p ftp-mirror-benches --bins).
# Environment: FTP_MIRROR_SKIP_APT=1 never calls apt-get; FTP_MIRROR_PYTHON
# names the python that has pyftpdlib (default .venv/bin/python).
set -euo pipefail

PYFTPDLIB_VERSION="2.2.0"
PEERS=(lftp rclone wget curl)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

install_peers() {
    local missing=()
    for p in "${PEERS[@]}"; do command -v "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return
    [ "${FTP_MIRROR_SKIP_APT:-0}" = 1 ] && die "missing peers: ${missing[*]} (FTP_MIRROR_SKIP_APT=1)"
    command -v apt-get >/dev/null 2>&1 || die "missing peers: ${missing[*]}; install them by hand"
    say "installing peers: apt-get update && apt-get install -y lftp rclone wget curl"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update && apt-get install -y lftp rclone wget curl'
}

setup_venv() {
    local py="${FTP_MIRROR_PYTHON:-$repo_root/.venv/bin/python}"
    if [ -x "$py" ] && "$py" -c "import pyftpdlib" >/dev/null 2>&1; then
        return
    fi
    [ -n "${FTP_MIRROR_PYTHON:-}" ] && die "FTP_MIRROR_PYTHON=$py has no pyftpdlib"
    say "creating .venv with pyftpdlib $PYFTPDLIB_VERSION"
    [ -x "$repo_root/.venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$repo_root/.venv"
    "$repo_root/.venv/bin/python" -m pip install -q "pyftpdlib==$PYFTPDLIB_VERSION"
}

if [ "${1:-}" = "--setup" ]; then
    install_peers
    setup_venv
    exit 0
fi

install_peers
setup_venv
if [ -z "${FTP_MIRROR_BIN:-}" ]; then
    say "building target/release/ftp-mirror"
    cargo build --release -q -p ftp-mirror-cli
fi
# mirror-bench runs every tool under bench-exec (built alongside), which
# measures the tool's own peak RSS.
say "building mirror-bench and bench-exec"
cargo build --release -q -p ftp-mirror-benches --bins
target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
exec "$target_dir/release/mirror-bench" "$@"
