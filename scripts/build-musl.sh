#!/usr/bin/env bash
# Builds the static x86_64-unknown-linux-musl trustsync for containers (any distribution,
# distroless, scratch: no libc needed in the image) into
#   ${CARGO_TARGET_DIR:-target}/packages/trustsync-x86_64-unknown-linux-musl
# stripped of symbols (it is copied into images; a backtrace still names no files anyway).
# Needs the rustup target and musl-gcc (Debian `musl-tools`), which compiles ring's C and
# assembly; scripts/setup-packaging.sh installs both. packaging/docker/Dockerfile.static
# shows the result in an image.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/packaging-lib.sh
. "$repo/scripts/packaging-lib.sh"

triple=x86_64-unknown-linux-musl
command -v musl-gcc >/dev/null 2>&1 || {
    echo "build-musl: musl-gcc not found (apt-get install musl-tools, or scripts/setup-packaging.sh)" >&2
    exit 2
}

start=$(date +%s)
(cd "$repo" && cargo build --release --locked --target "$triple" -p trustsync --bin trustsync)
mkdir -p "$packages_dir"
out="$packages_dir/trustsync-$triple"
# Copy to a temporary name and rename: a reader never sees a half-written binary.
cp -- "$target_dir/$triple/release/trustsync" "$out.tmp"
strip --strip-all -- "$out.tmp"
chmod 0755 -- "$out.tmp"
mv -f -- "$out.tmp" "$out"
echo "build-musl: $out ($(stat -c %s "$out") bytes) in $(($(date +%s) - start))s" >&2
