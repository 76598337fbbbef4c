#!/bin/sh
# build-private-openssl.sh: build the "private OpenSSL" of seed case S1, once per machine.
#
# Why this exists: the field reports behind S1 are about a Python or tool linked against an
# OpenSSL built with --openssldir=/usr/local/openssl111, whose certs/ directory is empty, so
# it trusts nothing. The integration tests need that exact situation with a REAL OpenSSL, so
# this script builds one from the sources shipped in the `openssl-src` crate (crates.io is
# reachable from CI; openssl.org is not) and caches the resulting `openssl` binary:
#
#     ${TRUSTSYNC_CACHE:-$HOME/.cache/trustsync}/openssl111/bin/openssl
#
# The binary keeps OPENSSLDIR="/usr/local/openssl111" compiled in even though it lives in the
# cache; tests copy it into a sandbox (tests/support/sandbox.rs, install_private_openssl) at
# /usr/local/openssl111/bin/openssl. Nothing is ever installed under /usr/local on the host.
#
# A second run with a valid cache is a no-op. Needs: cargo, perl, make, a C compiler.
# Usage: scripts/build-private-openssl.sh    (prints the binary's path as its last line)
set -eu

PREFIX=/usr/local/openssl111
# Pinned: the tests know what each OpenSSL version searches (3.4 dropped the store lookup
# of a certificate directory), so the build must be the version they expect, and a cache
# left by another version is rebuilt rather than trusted.
OPENSSL_SRC_REQ="${OPENSSL_SRC_VERSION:-=300.6.1}"
OPENSSL_EXPECTED="${OPENSSL_EXPECTED_VERSION:-OpenSSL 3.6.3 }"
CACHE_ROOT="${TRUSTSYNC_CACHE:-$HOME/.cache/trustsync}"
CACHE_DIR="$CACHE_ROOT/openssl111"
BIN="$CACHE_DIR/bin/openssl"
JOBS="${JOBS:-2}"

started=$(date +%s)
log() { printf 'build-private-openssl: %s\n' "$*" >&2; }

# The cache is valid only if the binary runs and still reports the private OPENSSLDIR.
cache_is_valid() {
    [ -x "$BIN" ] || return 1
    dir_line=$("$BIN" version -d 2>/dev/null) || return 1
    [ "$dir_line" = "OPENSSLDIR: \"$PREFIX\"" ] || return 1
    case "$("$BIN" version 2>/dev/null)" in
        "$OPENSSL_EXPECTED"*) return 0 ;;
        *) return 1 ;;
    esac
}

report_cached() {
    log "cached build is valid ($("$BIN" version)); nothing to do ($(( $(date +%s) - started ))s)"
    printf '%s\n' "$BIN"
    exit 0
}

if cache_is_valid; then
    report_cached
fi

# Two CI jobs on one machine: the second waits for the first, then finds the cache valid.
mkdir -p "$CACHE_DIR"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE_DIR/.build.lock"
    flock 9
    if cache_is_valid; then
        report_cached
    fi
fi

for tool in cargo perl make cc; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing required tool: $tool"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/trustsync-openssl-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# 1. Fetch the openssl-src crate through cargo (the ordinary client for crates.io) with a
#    throwaway project, then ask cargo where the sources landed instead of globbing
#    ~/.cargo/registry, so CARGO_HOME and several cached versions are handled.
log "fetching openssl-src = \"$OPENSSL_SRC_REQ\" from crates.io"
mkdir -p "$work/fetch/src"
cat > "$work/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-openssl-src"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
openssl-src = "$OPENSSL_SRC_REQ"

[workspace]
TOML
: > "$work/fetch/src/lib.rs"
(cd "$work/fetch" && CARGO_TARGET_DIR="$work/fetch/target" cargo fetch --quiet)
manifest=$(cd "$work/fetch" && cargo metadata --format-version 1 --quiet |
    perl -MJSON::PP -0777 -ne '
        my $m = JSON::PP::decode_json($_);
        for my $p (@{ $m->{packages} }) {
            if ($p->{name} eq "openssl-src") { print $p->{manifest_path}, "\n"; exit 0 }
        }
        exit 1')
src="$(dirname "$manifest")/openssl"
[ -f "$src/Configure" ] || { log "no OpenSSL sources at $src"; exit 1; }
log "OpenSSL sources: $src"

# 2. Configure out of tree (the registry copy stays pristine). The target is chosen
#    explicitly because `Configure` without one refuses on some versions.
case "$(uname -m)" in
    x86_64) target=linux-x86_64 ;;
    aarch64) target=linux-aarch64 ;;
    *) target="" ;;
esac
mkdir -p "$work/build"
cd "$work/build"
# no-shared/no-module: one self-contained binary that can be copied anywhere;
# (the shared build also lacks util/mkdef.pl in openssl-src). no-legacy/no-tests/no-docs:
# less to build; the tests only need `openssl verify`, `s_client`, `x509`, `version`.
log "configuring ($target) with --prefix=$PREFIX --openssldir=$PREFIX"
perl "$src/Configure" $target \
    --prefix="$PREFIX" --openssldir="$PREFIX" \
    no-shared no-module no-legacy no-tests no-docs >"$work/configure.log" 2>&1 ||
    { tail -n 40 "$work/configure.log" >&2; exit 1; }

# 3. Build only the programs (apps/openssl and the libraries it links), never `install`.
log "building with make -j$JOBS build_programs (this takes a few minutes)"
make -j"$JOBS" build_programs >"$work/make.log" 2>&1 ||
    { tail -n 60 "$work/make.log" >&2; exit 1; }

built="$work/build/apps/openssl"
dir_line=$("$built" version -d)
[ "$dir_line" = "OPENSSLDIR: \"$PREFIX\"" ] ||
    { log "unexpected: built binary says $dir_line"; exit 1; }

# 4. Install into the cache atomically (copy next to it, then rename), so an interrupted
#    run never leaves a half-written binary that a later run would accept.
mkdir -p "$CACHE_DIR/bin"
cp "$built" "$BIN.tmp.$$"
strip "$BIN.tmp.$$" 2>/dev/null || true
mv -f "$BIN.tmp.$$" "$BIN"
# No openssl.cnf is installed: openssl-src does not ship one, and OpenSSL 3 quietly skips
# a missing default config file, which is what the tests need (verify, s_client, x509).

cache_is_valid || { log "installed binary failed validation"; exit 1; }
log "built $("$BIN" version) in $(( $(date +%s) - started ))s"
printf '%s\n' "$BIN"
