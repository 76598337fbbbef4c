#!/usr/bin/env bash
# Builds the Debian package into target/packages/ with cargo-deb: the release binary, the
# man pages and completions generated from it (scripts/build-assets.sh), /etc/default/
# trustsync, and the maintainer scripts in packaging/debian/ (postinst: `trustsync hook
# install`, prerm: `trustsync hook remove`). cargo-deb is installed by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo-deb reads assets relative to the repository (its target/release paths follow
# CARGO_TARGET_DIR by itself; the generated assets always live in ./target/packages).
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked
./scripts/build-assets.sh "$target/release/trustsync" target/packages/assets
cargo deb --no-build --locked --output target/packages/ "$@"
ls -l target/packages/*.deb
