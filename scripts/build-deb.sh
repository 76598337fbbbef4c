#!/usr/bin/env bash
# Builds the Debian package into target/packages/ with cargo-deb: the static
# x86_64-unknown-linux-musl binary (scripts/build-musl.sh), so the package depends on no
# libc6 at all and installs on every amd64 dpkg system, Debian 11 and Ubuntu 20.04
# included; the man pages and completions generated from it (scripts/build-assets.sh);
# /etc/default/trustsync; the Debian changelog and DEP-5 copyright (packaging/debian/);
# and the maintainer scripts in packaging/debian/ (postinst: `trustsync hook install`,
# prerm: `trustsync undo` and `trustsync hook remove`). cargo-deb is installed by
# scripts/setup.sh; lintian checks the result in tests/packaging_deb.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
triple=x86_64-unknown-linux-musl
# cargo-deb reads assets relative to the repository (its target/release paths follow
# CARGO_TARGET_DIR and --target by themselves; the generated assets always live in
# ./target/packages).
target=${CARGO_TARGET_DIR:-target}
./scripts/build-musl.sh
./scripts/build-assets.sh "$target/$triple/release/trustsync" target/packages/assets
cargo deb --no-build --locked --target "$triple" --output target/packages/ "$@"
ls -l target/packages/*.deb
