#!/usr/bin/env bash
# Runs the bundle from scripts/gpu-bundle.sh on a GPU machine: the GPU tests
# with MORPH_REQUIRE_GPU=1, then the criterion benches. Results (test log,
# bench log) go to ${OUT:-./gpu-results}.
#
# On a machine without a Vulkan loader, pass the folder of Debian's
# libvulkan1 .deb as $1 (it is unpacked into /) and the NVIDIA ICD is used.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
if [ -n "${1:-}" ]; then
    for f in "$1"/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export MORPH_REQUIRE_GPU=1 XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | tee "$out/device.txt"
[ -x .gpu/morph-render ] && .gpu/morph-render devices | tee -a "$out/device.txt"
status=0
for t in .gpu/tests/*; do
    echo "== $t"
    "$t" 2>&1 | tail -n 5 || status=1
done | tee "$out/tests.log"
for b in .gpu/benches/*; do
    echo "== $b"
    "$b" --bench --warm-up-time 1 --measurement-time ${BENCH_SECONDS:-2} ${BENCH_FILTER:-} 2>&1 | grep -E '^[a-z_]+/|time:|thrpt:' || true
done | tee "$out/benches.log"
exit $status
