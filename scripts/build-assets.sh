#!/bin/sh
# Generates what packages ship besides the binary, from the clap definitions of the given
# trustsync binary (never written by hand): man pages and shell completions.
#   scripts/build-assets.sh target/release/trustsync target/packages/assets
# Result: OUT/man/trustsync.1, OUT/man/trustsync-<subcommand>.1, ...
#         OUT/completions/trustsync.bash, OUT/completions/_trustsync (zsh),
#         OUT/completions/trustsync.fish, OUT/completions/_trustsync.ps1 (PowerShell)
set -eu
bin=${1:?usage: build-assets.sh BINARY OUTDIR}
out=${2:?usage: build-assets.sh BINARY OUTDIR}
rm -rf -- "$out"
mkdir -p -- "$out/man" "$out/completions"
"$bin" man "$out/man"
"$bin" completions bash >"$out/completions/trustsync.bash"
"$bin" completions zsh >"$out/completions/_trustsync"
"$bin" completions fish >"$out/completions/trustsync.fish"
"$bin" completions powershell >"$out/completions/_trustsync.ps1"
gzip -9n -- "$out"/man/*.1
echo "assets: $(find "$out/man" -type f | wc -l) man pages, $(find "$out/completions" -type f | wc -l) completion scripts in $out"
