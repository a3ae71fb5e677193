#!/usr/bin/env bash
# Python tests use Debian's interpreter, which has python3-torch (1.13), numpy and ASE.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
if [ ! -d training/tests ]; then
  echo "no Python tests yet (training/tests missing)"; exit 0
fi
/usr/bin/python3 -m pytest -q training/tests
