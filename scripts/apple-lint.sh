#!/usr/bin/env bash
# Type-checks and lints the macOS code on Linux: nothing macOS runs here, but the FFI in
# platform/src/macos.rs (cfg(target_os = "macos")) must at least compile and pass clippy
# for both Apple targets on every submission.
#
# Usage: scripts/apple-lint.sh [--workspace]
#   default      lint the trustsync-platform crate (pure Rust: needs no C toolchain, since
#                core-foundation-sys and security-framework-sys only emit link flags)
#   --workspace  lint every crate; some dependencies (ring, via rcgen) compile C in their
#                build scripts even for `cargo check`, so this needs clang (apt: clang-14, plus llvm-14 for llvm-ar),
#                which can compile their freestanding C for Darwin without Apple's SDK.
#
# `cargo clippy` never links, so the Security framework itself is not needed.
set -euo pipefail

cd "$(dirname "$0")/.."

scope=(-p trustsync-platform)
if [[ "${1:-}" == "--workspace" ]]; then
    scope=(--workspace)
fi

targets=(aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"

if [[ "${scope[0]}" == "--workspace" ]]; then
    clang_bin="$(command -v clang || command -v clang-14 || true)"
    if [[ -z "$clang_bin" ]]; then
        echo "apple-lint: --workspace needs clang (apt-get install clang-14 llvm-14)" >&2
        exit 2
    fi
    # cc-rs picks these per target; llvm-ar understands the Mach-O objects clang makes.
    ar_bin="$(command -v llvm-ar || command -v llvm-ar-14 || echo ar)"
    export CC_aarch64_apple_darwin="$clang_bin" CC_x86_64_apple_darwin="$clang_bin"
    export AR_aarch64_apple_darwin="$ar_bin" AR_x86_64_apple_darwin="$ar_bin"
    # Without Apple's SDK there are no Darwin headers. ring's C needs only clang's own
    # freestanding headers plus TargetConditionals.h, which we stand in for with the macOS
    # values. The objects are never linked or run: clippy only needs build scripts to finish.
    shim_dir="$(mktemp -d)"
    trap 'rm -rf "$shim_dir"' EXIT
    cat >"$shim_dir/TargetConditionals.h" <<'HEADER'
/* Stand-in for the Apple SDK header, for type-checking builds on Linux only. */
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_SIMULATOR 0
HEADER
    # The few libc declarations ring's portable C uses; glibc's headers are kept out
    # (-nostdlibinc) because they do not parse for a Darwin target.
    cat >"$shim_dir/assert.h" <<'HEADER'
#define assert(x) ((void)0)
HEADER
    cat >"$shim_dir/string.h" <<'HEADER'
#include <stddef.h>
void *memcpy(void *, const void *, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
int memcmp(const void *, const void *, size_t);
size_t strlen(const char *);
HEADER
    cat >"$shim_dir/stdlib.h" <<'HEADER'
#include <stddef.h>
void abort(void);
HEADER
    shim_flags="-ffreestanding -nostdlibinc -isystem $shim_dir"
    export CFLAGS_aarch64_apple_darwin="$shim_flags" CFLAGS_x86_64_apple_darwin="$shim_flags"
fi

for target in "${targets[@]}"; do
    echo "apple-lint: cargo clippy ${scope[*]} --all-targets --target $target"
    cargo clippy "${scope[@]}" --all-targets --target "$target" -- -D warnings
done
echo "apple-lint: ok"
