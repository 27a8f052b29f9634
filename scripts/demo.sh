#!/usr/bin/env bash
# Starts Keysentry for a person to try: code-server (VS Code in the browser) with the extension
# installed from a freshly packaged .vsix, on a demo workspace with planted, random, fake leaks.
# Listens on 127.0.0.1 only and prints the URL to open. Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/demo.mjs "$@"
