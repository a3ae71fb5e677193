#!/usr/bin/env bash
# Browser end-to-end tests of the workbench: headless Chromium (Debian's `chromium`, WebGPU and WebGL on
# SwiftShader) driven by playwright-core. The test starts and stops its own Vite server on 127.0.0.1.
# Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "e2e: $CHROMIUM_PATH not found (apt-get install chromium, or set CHROMIUM_PATH)" >&2
  exit 1
fi
export CHROMIUM_PATH
exec npx vitest run --config test/e2e/vitest.e2e.config.ts "$@"
