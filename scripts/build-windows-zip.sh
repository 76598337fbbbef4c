#!/usr/bin/env bash
# Builds the Windows release artifact that the Scoop and winget manifests install:
#   ${CARGO_TARGET_DIR:-target}/packages/trustsync-VERSION-x86_64-pc-windows-gnu.zip
# holding trustsync.exe at its top (Scoop: "bin": "trustsync.exe"; winget: a zip with a
# nested portable). Cross-built with the mingw-w64 toolchain (Debian gcc-mingw-w64-x86-64,
# which also compiles ring's C), as scripts/windows-tests.sh does; the binary needs no DLL
# beyond Windows' own (tests/packaging_recipes.rs checks its imports).
#
# The zip is written by python3's zipfile with fixed timestamps and permissions, so the same
# trustsync.exe always gives the same zip bytes and the same SHA-256 in the manifests.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/packaging-lib.sh
. "$repo/scripts/packaging-lib.sh"

triple=x86_64-pc-windows-gnu
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || {
    echo "build-windows-zip: x86_64-w64-mingw32-gcc not found (apt-get install gcc-mingw-w64-x86-64, or scripts/setup-packaging.sh)" >&2
    exit 2
}

start=$(date +%s)
(cd "$repo" && cargo build --release --locked --target "$triple" -p trustsync --bin trustsync)
version="$(trustsync_version)"
mkdir -p "$packages_dir"
zip_path="$packages_dir/trustsync-$version-$triple.zip"
rm -f -- "$packages_dir"/trustsync-*-"$triple".zip
python3 - "$target_dir/$triple/release/trustsync.exe" "$zip_path" <<'PY'
import os
import sys
import zipfile

exe, zip_path = sys.argv[1], sys.argv[2]
# Written under a temporary name and renamed: a reader never sees half a zip.
partial = zip_path + ".tmp"
with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    entry = zipfile.ZipInfo("trustsync.exe", date_time=(1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o100755 << 16
    with open(exe, "rb") as binary:
        archive.writestr(entry, binary.read())
os.replace(partial, zip_path)
PY
echo "build-windows-zip: $zip_path in $(($(date +%s) - start))s" >&2
