#!/usr/bin/env bash
# Installs what the package builds (scripts/build-rpm.sh, build-musl.sh,
# build-windows-zip.sh) and tests/packaging_recipes.rs need, on Debian 12. Idempotent: a
# second run only checks. Needs root for apt-get (CI runs as root). Called by
# scripts/setup.sh.
#  - rpm: the real rpmbuild, and rpm to query and install the result in the test;
#  - musl-tools: musl-gcc, which compiles ring's C for x86_64-unknown-linux-musl;
#  - gcc-mingw-w64-x86-64: the linker (and ring's C compiler) for x86_64-pc-windows-gnu;
#  - binutils: readelf (the static-binary check) and objdump (the .exe's DLL imports);
#  - ruby: `ruby -c` on the Homebrew formula (about 6 MB of packages);
#  - python3-yaml: the winget manifests are parsed with it.
set -euo pipefail

need_apt=()
for pair in rpmbuild:rpm musl-gcc:musl-tools x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 \
            readelf:binutils objdump:binutils ruby:ruby; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
/usr/bin/python3 -c 'import yaml' 2>/dev/null || need_apt+=(python3-yaml)
if [ ${#need_apt[@]} -gt 0 ]; then
    # Sorted and de-duplicated (readelf and objdump are the same package).
    mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u)
    echo "setup-packaging: apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
rustup target add x86_64-unknown-linux-musl x86_64-pc-windows-gnu >/dev/null
