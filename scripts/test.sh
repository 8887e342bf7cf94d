#!/usr/bin/env bash
# The whole test suite, set-up included: installs Mesa's lavapipe (software
# Vulkan) when no Vulkan driver is present, so every GPU op's parity test
# runs against its CPU twin with MORPH_REQUIRE_GPU=1 (a missing adapter is a
# failure, not a skip), and ONNX Runtime for morph-ml's tests
# (scripts/setup-onnxruntime.sh). Then format, lints, every test in the
# workspace and the Flamenco job type's tests (Node.js, installed if missing).
#
# Usage: bash scripts/test.sh            (CI runs exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1 || ! ldconfig -p | grep -q 'libvulkan.so.1'; then
    echo "== installing Mesa lavapipe (software Vulkan) for the GPU tests"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

# ONNX Runtime for morph-ml (pip wheel into .onnxruntime/ on first use);
# its tests then fail rather than skip when the runtime is missing.
ORT_DYLIB_PATH="$(bash scripts/setup-onnxruntime.sh)"
export ORT_DYLIB_PATH
export MORPH_REQUIRE_ORT=1

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export MORPH_REQUIRE_GPU=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo test"
cargo test --workspace --no-fail-fast

# The Flamenco job type (integrations/flamenco), its tasks run with the
# morph-render the CLI tests built.
if ! command -v node >/dev/null 2>&1; then
    echo "== installing Node.js for the Flamenco job type's tests"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs >/dev/null
fi
echo "== Flamenco job type (node --test)"
cargo build --quiet -p morph-render
MORPH_RENDER="$PWD/target/debug/morph-render" node --test \
    integrations/flamenco/test/morph_render.test.js integrations/flamenco/test/submit.test.js
