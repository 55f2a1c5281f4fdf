#!/usr/bin/env bash
# Runs the whole test suite: the README's test command.
#
# On a fresh Debian machine with Rust and Python 3 this script
#   1. creates the virtual environment .venv in the repository root (if missing)
#      and installs the pinned pyftpdlib into it (if missing or another version),
#   2. installs the Debian packages the tests and benchmarks drive as peers
#      (lftp, curl, wget, rclone) when one is missing, with sudo unless root,
#   3. runs `cargo test --workspace` with FTP_MIRROR_PYTHON set to the venv's python.
#
# Arguments are passed on to `cargo test`; `--workspace` is added unless they
# name a package, e.g.
#   scripts/test.sh -p ftp-mirror-tests --test proto_pyftpd -- retr
#
# Environment:
#   PYTHON                   the interpreter that creates the venv (default: python3)
#   FTP_MIRROR_SKIP_APT=1    never call apt-get (fail later if a peer is missing)
#   FTP_MIRROR_SKIP_SETUP=1  skip steps 1 and 2 (the venv must already exist)
set -euo pipefail

PYFTPDLIB_VERSION="2.2.0"
DEBIAN_PEERS=(lftp curl wget rclone)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
venv_python="$venv/bin/python"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (not root and sudo is not installed)"
    fi
}

apt_install() {
    [ "${FTP_MIRROR_SKIP_APT:-0}" = 1 ] && die "missing Debian packages: $* (FTP_MIRROR_SKIP_APT=1 is set)"
    command -v apt-get >/dev/null 2>&1 || die "missing packages: $* (and apt-get is not available; install them by hand)"
    say "installing Debian packages: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

pyftpdlib_ok() {
    [ -x "$venv_python" ] &&
        "$venv_python" -c "import sys, pyftpdlib; sys.exit(pyftpdlib.__ver__ != '$PYFTPDLIB_VERSION')" \
            >/dev/null 2>&1
}

setup_venv() {
    if pyftpdlib_ok; then
        say "pyftpdlib $PYFTPDLIB_VERSION already installed in .venv"
        return
    fi
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null 2>&1 || die "$python not found: install Python 3 (3.11 is tested)"
    if [ ! -x "$venv_python" ] || ! "$venv_python" -c 'import sys' >/dev/null 2>&1; then
        say "creating the virtual environment .venv with $python"
        rm -rf "$venv"
        if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
            # Debian ships venv/ensurepip separately.
            rm -rf "$venv"
            local minor
            minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            apt_install "python${minor}-venv" || apt_install python3-venv
            "$python" -m venv "$venv" || die "could not create .venv with $python"
        fi
    fi
    say "installing pyftpdlib==$PYFTPDLIB_VERSION into .venv"
    "$venv_python" -m pip install --quiet --disable-pip-version-check "pyftpdlib==$PYFTPDLIB_VERSION"
    pyftpdlib_ok || die "pyftpdlib $PYFTPDLIB_VERSION is still not importable from $venv_python"
}

setup_peers() {
    local missing=()
    local tool
    for tool in "${DEBIAN_PEERS[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "peer clients present: ${DEBIAN_PEERS[*]}"
    else
        apt_install "${missing[@]}"
    fi
}

command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs)"
cd "$repo_root"
if [ "${FTP_MIRROR_SKIP_SETUP:-0}" != 1 ]; then
    setup_venv
    setup_peers
fi
[ -x "$venv_python" ] || die "$venv_python is missing: run scripts/test.sh without FTP_MIRROR_SKIP_SETUP"

export FTP_MIRROR_PYTHON="$venv_python"
# The whole workspace (benches included) unless the arguments pick packages.
scope=(--workspace)
for arg in "$@"; do
    case "$arg" in
        --) break ;;
        -p | -p* | --package | --package=* | --manifest-path | --manifest-path=*) scope=() ;;
    esac
done
say "cargo test ${scope[*]} $*"
exec cargo test "${scope[@]}" "$@"
