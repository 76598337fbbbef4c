#!/usr/bin/env bash
# The whole test suite: lint, unit and integration tests (mount-namespace scenario tests
# included when root), and the cross-OS checks. This is the command README.md and .ci/run
# use; it installs what it needs first (scripts/setup.sh), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
