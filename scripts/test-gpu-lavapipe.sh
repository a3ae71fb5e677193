#!/usr/bin/env bash
# The WebGPU suites on a second CPU Vulkan driver: Mesa 25 lavapipe (bookworm-backports), unpacked into
# $LVP_DIR (default /opt/lvp25) without touching the system's Mesa; recipe and why in
# ../shared/notes/webgpu-on-cpu.md. Optional (the README's test command runs SwiftShader): lavapipe has a
# 128 MiB storage-binding limit and f16/subgroups, so it checks the runtime under other limits.
#
#   bash scripts/test-gpu-lavapipe.sh [vitest files...]     (default: test/gpu test/md)
set -euo pipefail
cd "$(dirname "$0")/.."
L="${LVP_DIR:-/opt/lvp25}"
VERSION="25.0.7-2~bpo12+1"

if [ ! -f "$L/lvp_icd.json" ]; then
  echo "== unpacking mesa-vulkan-drivers $VERSION into $L"
  # lavapipe 25 links against the system's libllvm15 and libdrm2; the Vulkan loader comes with libvulkan1
  apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  mkdir -p "$L/lists/partial" "$L/cache/archives/partial"
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm-backports main" > "$L/sources.list"
  APTO=(-o "Dir::Etc::SourceList=$L/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$L/lists" -o "Dir::Cache=$L/cache")
  apt-get "${APTO[@]}" update -qq
  (cd "$L" && apt-get "${APTO[@]}" download "mesa-vulkan-drivers=$VERSION" && dpkg -x mesa-vulkan-drivers_*.deb root)
  sed "s#\"library_path\": \"[^\"]*\"#\"library_path\": \"$L/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so\"#" \
    "$L/root/usr/share/vulkan/icd.d/lvp_icd.json" > "$L/lvp_icd.json"
fi

# Only lavapipe listed: with two ICDs Dawn's default adapter would be SwiftShader.
export VK_ICD_FILENAMES="$L/lvp_icd.json"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
[ $# -gt 0 ] || set -- test/gpu test/md
npx vitest run "$@"
