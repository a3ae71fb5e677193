#!/usr/bin/env bash
# The one test command (README, .ci/run): type check, unit + GPU tests (Node + Dawn on a
# CPU Vulkan driver), Python reference tests, and browser end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export VK_ICD_FILENAMES="${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}"
export OPENBLAS_NUM_THREADS=1

echo "== type check"
npx tsc --noEmit -p tsconfig.json

echo "== vitest (unit, CPU runtime, WebGPU kernels)"
npx vitest run

echo "== pytest (PyTorch reference, converter, training)"
bash scripts/test-python.sh

if [ -x scripts/e2e.sh ]; then
  echo "== browser end-to-end (headless Chromium)"
  bash scripts/e2e.sh
fi
