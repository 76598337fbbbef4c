#!/usr/bin/env bash
# The whole test suite: lint, unit and integration tests (the mount-namespace scenario
# tests run when root, and must under CI=true), the macOS type-check and lint, and the
# Windows tests under Wine. README.md and .ci/run use exactly this command; it installs
# what it needs first (scripts/setup.sh), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The packages the packaging tests check and install (tests/packaging_deb.rs,
# tests/packaging_recipes.rs); release-manifests.sh last: it hashes what is built.
./scripts/build-deb.sh
./scripts/build-rpm.sh
./scripts/build-musl.sh
./scripts/build-windows-zip.sh
./scripts/release-manifests.sh
cargo test --workspace --no-fail-fast
./scripts/apple-lint.sh --workspace
cargo clippy --workspace --all-targets --target x86_64-pc-windows-gnu -- -D warnings
./scripts/windows-tests.sh
