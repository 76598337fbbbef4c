#!/usr/bin/env bash
# Runs trustsync-platform's tests for Windows (x86_64-pc-windows-gnu) under Wine, against
# Wine's real crypt32, on a Debian 12 machine. Exits non-zero when anything fails.
#
# Why it exists: the Windows store reader and its add/remove backend can only be proven
# against a crypt32; CI has Linux, and Wine's crypt32 (which fills LocalMachine\ROOT from
# the host's /etc/ssl/certs) is the real thing closest to hand.
#
# What it does, idempotently:
#   1. installs wine, wine64 and the mingw-w64 cross compiler with apt-get if missing, and
#      the Rust target with rustup;
#   2. builds platform/wine/bcryptprimitives.c: Rust 1.78+ binaries import ProcessPrng from
#      bcryptprimitives.dll, which Debian 12's Wine 8.0 lacks (exit 53 otherwise);
#   3. runs `cargo test -p trustsync-platform --target x86_64-pc-windows-gnu`, then the
#      main crate's `windows_manage` test (the real trustsync.exe `add`/`status`/`remove`)
#      and `windows_fix` (`fix`/`undo`: managed bundle, registry variables; it runs a
#      stand-in python.exe built here from tests/wine/fake_python.c),
#      with this script as cargo's runner, so that every test binary gets a fresh
#      WINEPREFIX (Wine 8.0 store deletions are not reliable enough to share a prefix
#      between binaries). trustsync.exe itself, started by a test, runs in that test's
#      prefix: the runner exports WINEPREFIX.
#
# Usage: scripts/windows-tests.sh [extra cargo test arguments...]
# Internal: scripts/windows-tests.sh --run-in-fresh-prefix EXE [ARGS...] (cargo's runner).
set -euo pipefail

script="$(readlink -f "${BASH_SOURCE[0]}")"
repo="$(dirname "$(dirname "$script")")"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
stub_dll="$target_dir/wine-stub/bcryptprimitives.dll"
# One test binary must never hang CI: Wine 8.0 loops forever on some store misuse, and
# now and then its wineserver connection breaks under a test (CI, stop 20: "wine client
# error:138: sendmsg: Bad file descriptor", then the binary hung until the deadline; the same
# binary passed on every run before and after). A normal run of the slowest binary takes
# about 25 s, so a binary that hangs is stopped at 240 s and run once more in a new prefix;
# a second hang, or any real failure, fails the run. Both attempts are logged.
per_binary_timeout_secs=240
attempts_on_hang=2

export WINEDEBUG=-all
# No Mono/Gecko install prompts while creating prefixes: the tests need neither.
export WINEDLLOVERRIDES="mscoree=;mshtml="

# Runs one test binary once, in a prefix of its own that is removed afterwards.
run_once_in_fresh_prefix() {
    local status
    # Global, not local: the EXIT trap runs after this function has returned.
    fresh_prefix="$(mktemp -d "${TMPDIR:-/tmp}/trustsync-wine.XXXXXX")"
    export WINEPREFIX="$fresh_prefix"
    # Stop only this prefix's wineserver, then drop the prefix (also when killed).
    trap 'wineserver -k >/dev/null 2>&1 || true; rm -rf -- "$fresh_prefix"' EXIT
    wine wineboot --init >/dev/null 2>&1
    wineserver -w
    cp -- "$stub_dll" "$fresh_prefix/drive_c/windows/system32/bcryptprimitives.dll"
    # `wine`, not `wine64`: Debian's `wine` launcher picks the 64-bit loader and sets up the
    # environment the way the prefix expects.
    set +e
    timeout --kill-after=10 "$per_binary_timeout_secs" wine "$@"
    status=$?
    set -e
    wineserver -k >/dev/null 2>&1 || true
    rm -rf -- "$fresh_prefix"
    trap - EXIT
    return "$status"
}

run_in_fresh_prefix() {
    local attempt=1 status
    while :; do
        set +e
        run_once_in_fresh_prefix "$@"
        status=$?
        set -e
        # 124: timeout's "the deadline passed"; 137: killed after the grace period.
        if [ "$status" -ne 124 ] && [ "$status" -ne 137 ]; then
            return "$status"
        fi
        echo "windows-tests: $1 hung under Wine (attempt $attempt of $attempts_on_hang, stopped after ${per_binary_timeout_secs}s)" >&2
        if [ "$attempt" -ge "$attempts_on_hang" ]; then
            return "$status"
        fi
        attempt=$((attempt + 1))
    done
}

if [ "${1:-}" = "--run-in-fresh-prefix" ]; then
    shift
    run_in_fresh_prefix "$@"
    exit $?
fi

# 1. Tools.
missing=()
for package in wine wine64 gcc-mingw-w64-x86-64; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "windows-tests: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if command -v rustup >/dev/null 2>&1; then
    rustup target add x86_64-pc-windows-gnu >/dev/null
fi

# 2. The ProcessPrng stand-in, rebuilt only when its source changed.
mkdir -p "$(dirname "$stub_dll")"
if [ ! -f "$stub_dll" ] \
    || [ "$repo/platform/wine/bcryptprimitives.c" -nt "$stub_dll" ] \
    || [ "$repo/platform/wine/bcryptprimitives.def" -nt "$stub_dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -Wall -Werror -shared \
        -o "$stub_dll" \
        "$repo/platform/wine/bcryptprimitives.c" \
        "$repo/platform/wine/bcryptprimitives.def" \
        -ladvapi32
fi

# The stand-in python.exe of the fix test (tests/wine/fake_python.c: no CPython for
# Windows to install here), likewise rebuilt only when its source changed. The test gets
# its Windows path (Wine maps / to Z:).
fake_python="$(cd "$(dirname "$stub_dll")" && pwd)/fake-python.exe"
if [ ! -f "$fake_python" ] || [ "$repo/tests/wine/fake_python.c" -nt "$fake_python" ]; then
    x86_64-w64-mingw32-gcc -O2 -Wall -Werror -o "$fake_python" "$repo/tests/wine/fake_python.c"
fi
export TRUSTSYNC_FAKE_PYTHON_EXE="Z:${fake_python//\//\\}"

# 3. The tests. Cargo splits the runner on spaces, so the script path must have none.
case "$script" in
*" "*)
    echo "windows-tests: $script contains a space; cargo cannot use it as a runner" >&2
    exit 2
    ;;
esac
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$script --run-in-fresh-prefix"
cd "$repo"
start=$(date +%s)
cargo test -p trustsync-platform --target x86_64-pc-windows-gnu "$@"
cargo test -p trustsync --target x86_64-pc-windows-gnu --test windows_manage --test windows_fix "$@"
echo "windows-tests: passed in $(($(date +%s) - start))s" >&2
