#!/usr/bin/env bash
# The one command that runs every test: set-up, type-check, lint, build, unit tests, then the
# integration suite inside a real VS Code (code-server) driven by Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== type-check"; npx tsc --noEmit -p .
echo "== lint"; npx eslint .
echo "== build"; node esbuild.config.mjs --tests
echo "== unit tests"; npm run --silent test:unit
echo "== integration tests (real VS Code 1.100.3 via code-server)"; node test/harness/run-code-server.mjs
