#!/usr/bin/env bash
# One-command check of the WebGPU runtime on whatever adapter this machine has:
#   bash scripts/gpu-check.sh OUT_DIR
# 1. the WebGPU parity suites in Node (test/gpu: kernels and whole model against the float64 references, on Dawn),
# 2. the whole-model parity test in headless Chromium (test/e2e/gpuModel.e2e.ts),
# 3. `npm run bench` at 192 / ~1,000 / ~5,000 atoms (water-box multiples 1, 5, 27),
# then OUT_DIR/gpu-check.json and OUT_DIR/gpu-check.md (scripts/gpu-check-report.mjs) with the adapter, pass/fail
# counts and the timings. Built to finish within 10 minutes on a real GPU; needs no network once node_modules exist.
#
# Environment:
#   GPU_CHECK_SWIFTSHADER=1   use SwiftShader (Dawn's Vulkan ICD and Chromium's flags) instead of the real GPU
#   GPU_CHECK_SIZES=1,5,27    bench sizes as multiples of the 192-atom water box
#   GPU_CHECK_NODE_TESTS="test/gpu"  Node test files or folders (a shorter list for a CPU-emulated check)
#   GPU_CHECK_MODEL=DIR       bench model (default: the workbench's default model)
#   GPU_CHECK_REPEATS=3       bench repeats per timing
#   GPU_CHECK_MATMUL=512      size of the bench's matmul ceiling (M = N = K)
#   GPU_CHECK_CPU_MAX_ATOMS=1000  largest size also timed on the float64 CPU runtime
#   CHROMIUM_PATH             Chromium binary (default /usr/bin/chromium)
# Exit status: 0 when every suite passed and the bench ran, 1 otherwise (the report is written either way).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?usage: bash scripts/gpu-check.sh OUT_DIR}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund || exit 1; fi

if [ "${GPU_CHECK_SWIFTSHADER:-0}" = 1 ]; then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  export E2E_GPU=swiftshader
  MODE=swiftshader
else
  # Dawn's default adapter and Chromium with the real GPU (no SwiftShader flags).
  unset VK_ICD_FILENAMES
  export E2E_GPU=hardware
  MODE=hardware
fi
SIZES="${GPU_CHECK_SIZES:-1,5,27}"
echo "gpu-check: mode $MODE, bench sizes $SIZES (x192 atoms), output $OUT"
START=$(date +%s)
status=0

step() { # name, then the command; its log goes to OUT/name.log and its wall time to OUT/name.seconds
  local name=$1; shift
  local t0=$(date +%s)
  echo "== $name: $*"
  "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo $(( $(date +%s) - t0 )) > "$OUT/$name.seconds"
  echo "$rc" > "$OUT/$name.rc"
  echo "   exit $rc after $(cat "$OUT/$name.seconds") s (log: $OUT/$name.log)"
  [ "$rc" = 0 ] || status=1
}

# shellcheck disable=SC2086  # a list of paths
step node-parity npx vitest run ${GPU_CHECK_NODE_TESTS:-test/gpu} --reporter=default --reporter=json --outputFile.json="$OUT/node-parity.vitest.json"
step browser-parity env CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}" npx vitest run --config test/e2e/vitest.e2e.config.ts \
  test/e2e/gpuModel.e2e.ts --reporter=default --reporter=json --outputFile.json="$OUT/browser-parity.vitest.json"
bench_args=(--sizes "$SIZES" --repeats "${GPU_CHECK_REPEATS:-3}" --cpu-max-atoms "${GPU_CHECK_CPU_MAX_ATOMS:-1000}" --no-torch --matmul "${GPU_CHECK_MATMUL:-512}" --json "$OUT/bench.json")
[ -n "${GPU_CHECK_MODEL:-}" ] && bench_args+=(--model "$GPU_CHECK_MODEL")
step bench npm run -s bench -- "${bench_args[@]}"

node scripts/gpu-check-report.mjs "$OUT" "$MODE" $(( $(date +%s) - START )) || status=1
echo "gpu-check: $( [ $status = 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - START )) s; report $OUT/gpu-check.md"
exit $status
