# shellcheck shell=bash
# What every package build script needs, sourced (not run) by scripts/build-rpm.sh,
# build-musl.sh, build-windows-zip.sh and release-manifests.sh, so that they agree on where
# artifacts go and which version they carry.
#
# Convention (shared with the Debian build): every artifact goes to
# ${CARGO_TARGET_DIR:-target}/packages, man pages and completions to .../packages/assets.
# The caller sets `repo` (the checkout's top directory) before sourcing this file.

: "${repo:?packaging-lib.sh: set repo before sourcing}"

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
# A relative CARGO_TARGET_DIR is relative to where cargo runs, which is $repo here.
case "$target_dir" in
/*) ;;
*) target_dir="$repo/$target_dir" ;;
esac
packages_dir="$target_dir/packages"
assets_dir="$packages_dir/assets"
release_binary="$target_dir/release/trustsync"

# The version every artifact and manifest carries: the trustsync package's, from cargo
# itself (not a grep of Cargo.toml, which would also match dependency versions).
trustsync_version() {
    cargo metadata --no-deps --format-version 1 --manifest-path "$repo/Cargo.toml" |
        python3 -c 'import json, sys
print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "trustsync"))'
}

# The glibc release binary, rebuilt only if a source changed (cargo decides; a no-op build
# takes about a second), so a package never ships a stale binary.
build_release_binary() {
    (cd "$repo" && cargo build --release --locked -p trustsync --bin trustsync)
}

# Man pages and completions, generated from the binary's clap definitions.
build_assets() {
    "$repo/scripts/build-assets.sh" "$release_binary" "$assets_dir" >&2
}

# SHA-256 of a file, lower-case hex (what Homebrew and Scoop expect).
sha256_of() {
    sha256sum -- "$1" | cut -d' ' -f1
}
