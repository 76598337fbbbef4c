#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine. Idempotent: a second
# run only checks. Needs root for apt-get (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pair in openssl:openssl python3:python3 unshare:util-linux; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
[ -e /etc/ssl/certs/ca-certificates.crt ] || need_apt+=(ca-certificates)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
