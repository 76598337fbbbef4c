#!/bin/sh
# Generates what packages ship besides the binary, from the clap definitions of the given
# trustsync binary (never written by hand): man pages and shell completions.
#   scripts/build-assets.sh target/release/trustsync target/packages/assets
# clap_mangen writes NAME, SYNOPSIS, DESCRIPTION and OPTIONS; what a man page also needs
# (EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES, SEE ALSO) is roff in packaging/man/:
# PAGE.roff (trustsync-hook-ACTION falls back to trustsync-hook.roff), with common.roff
# (ENVIRONMENT, FILES) where it says `.\" @common`, put before the VERSION section (or at
# the end). A generated page without a fragment fails the build: a new subcommand gets
# its sections too.
# Result: OUT/man/trustsync.1, OUT/man/trustsync-<subcommand>.1, ...
#         OUT/completions/trustsync.bash, OUT/completions/_trustsync (zsh),
#         OUT/completions/trustsync.fish, OUT/completions/_trustsync.ps1 (PowerShell)
set -eu
bin=${1:?usage: build-assets.sh BINARY OUTDIR}
out=${2:?usage: build-assets.sh BINARY OUTDIR}
rm -rf -- "$out"
mkdir -p -- "$out/man" "$out/completions"
"$bin" man "$out/man"
extras=$(cd "$(dirname "$0")/../packaging/man" && pwd)
for page in "$out"/man/*.1; do
    name=$(basename "$page" .1)
    fragment="$extras/$name.roff"
    case "$name" in
    trustsync-hook-*) [ -f "$fragment" ] || fragment="$extras/trustsync-hook.roff" ;;
    esac
    if [ ! -f "$fragment" ] || [ "$(grep -cx '\.\\" @common' "$fragment")" != 1 ]; then
        echo "build-assets: $name.1 needs $fragment with its EXIT STATUS and EXAMPLES and one '.\\\" @common' line" >&2
        exit 1
    fi
    # The fragments' own comment lines (their headers) stay out of the page.
    awk -v fragment="$fragment" -v common="$extras/common.roff" '
        function copy(file, line) {
            while ((getline line <file) > 0) {
                if (line == ".\\\" @common") copy(common)
                else if (line !~ /^\.\\"/) print line
            }
            close(file)
        }
        /^\.SH VERSION/ && !done { copy(fragment); done = 1 }
        { print }
        END { if (!done) copy(fragment) }
    ' "$page" >"$page.tmp"
    mv -- "$page.tmp" "$page"
done
"$bin" completions bash >"$out/completions/trustsync.bash"
"$bin" completions zsh >"$out/completions/_trustsync"
"$bin" completions fish >"$out/completions/trustsync.fish"
"$bin" completions powershell >"$out/completions/_trustsync.ps1"
gzip -9n -- "$out"/man/*.1
echo "assets: $(find "$out/man" -type f | wc -l) man pages, $(find "$out/completions" -type f | wc -l) completion scripts in $out"
