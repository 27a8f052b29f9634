#!/usr/bin/env bash
# Everything Keysentry's tests and demo need on a fresh Debian machine with Node 20, idempotent:
#   Debian packages (Chromium for the UI tests, ripgrep and Kerberos headers for code-server's install),
#   npm packages (npm ci), moto (PyPI) in .cache/venv, and code-server 4.100.3 in the git-ignored cache .vscode-test/.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v git >/dev/null || need+=(git)
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# moto, the AWS emulator the rotation and account tests run the real SDK against, in a local venv.
MOTO_VERSION=5.2.1
if [ ! -x .cache/venv/bin/moto_server ] || ! .cache/venv/bin/python -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "setup: installing moto[server]==$MOTO_VERSION (PyPI) into .cache/venv"
  if ! python3 -m venv .cache/venv >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .cache/venv
  fi
  .cache/venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

node test/harness/ensure-code-server.mjs >/dev/null
echo "setup: ready"
