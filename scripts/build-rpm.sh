#!/usr/bin/env bash
# Builds the RPM from packaging/rpm/trustsync.spec with the real rpmbuild (Debian package
# `rpm`; scripts/setup-packaging.sh installs it), from the static x86_64-unknown-linux-musl
# binary (scripts/build-musl.sh: it needs no glibc, so the package installs on RHEL 7/8,
# Amazon Linux 2 and every later x86_64 rpm system) and the man pages and completions
# generated from it, into ${CARGO_TARGET_DIR:-target}/packages/.
#   scripts/build-rpm.sh      -> target/packages/trustsync-VERSION-1.ARCH.rpm
# rpmbuild works in a private temporary _topdir; nothing outside target/ is written.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/packaging-lib.sh
. "$repo/scripts/packaging-lib.sh"

command -v rpmbuild >/dev/null 2>&1 || {
    echo "build-rpm: rpmbuild not found (apt-get install rpm, or scripts/setup-packaging.sh)" >&2
    exit 2
}

start=$(date +%s)
"$repo/scripts/build-musl.sh"
static_binary="$packages_dir/trustsync-x86_64-unknown-linux-musl"
"$repo/scripts/build-assets.sh" "$static_binary" "$assets_dir" >&2
version="$(trustsync_version)"

topdir="$(mktemp -d "${TMPDIR:-/tmp}/trustsync-rpm.XXXXXX")"
trap 'rm -rf -- "$topdir"' EXIT
mkdir -p "$topdir/SOURCES"

# Source0: trustsync-VERSION/{trustsync, man/, completions/, LICENSE-*} (what %setup unpacks).
stage="$topdir/stage/trustsync-$version"
mkdir -p "$stage"
cp -p -- "$static_binary" "$stage/trustsync"
cp -pR -- "$assets_dir/man" "$assets_dir/completions" "$stage/"
cp -p -- "$repo/LICENSE-MIT" "$repo/LICENSE-APACHE" "$stage/"
tar -C "$topdir/stage" -czf "$topdir/SOURCES/trustsync-$version-prebuilt.tar.gz" "trustsync-$version"

# __brp_compress: the man pages come gzipped already, and Debian's brp-compress uses bash's
# `read -d` under /bin/sh (dash), which only prints errors.
rpmbuild -bb --quiet \
    --define "_topdir $topdir" \
    --define "__brp_compress true" \
    --define "trustsync_version $version" \
    "$repo/packaging/rpm/trustsync.spec" >&2

mkdir -p "$packages_dir"
# Replace this version's earlier build, keep nothing else of ours stale next to it.
rm -f -- "$packages_dir"/trustsync-[0-9]*.rpm
shopt -s nullglob
built=("$topdir"/RPMS/*/trustsync-"$version"-*.rpm)
if [ "${#built[@]}" -ne 1 ]; then
    echo "build-rpm: expected one trustsync-$version rpm, rpmbuild made: ${built[*]:-none}" >&2
    exit 1
fi
cp -- "${built[0]}" "$packages_dir/"
echo "build-rpm: $packages_dir/$(basename "${built[0]}") in $(($(date +%s) - start))s" >&2
