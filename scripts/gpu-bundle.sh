#!/usr/bin/env bash
# Builds the GPU test and bench executables (release) into .gpu/ so they can
# run on a machine that has a GPU driver but no Rust toolchain (a render node,
# or the lent NVIDIA machine). Run the bundle there with scripts/gpu-run.sh.
#
# Usage: bash scripts/gpu-bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
rm -rf "$out" && mkdir -p "$out/tests" "$out/benches"

list() { jq -r 'select(.profile.test == true and .executable != null) | .executable'; }
command -v jq >/dev/null || { apt-get install -y -qq jq >/dev/null; }

cargo test --release --no-run -p morph-gpu -p morph --message-format=json 2>/dev/null \
    | list | while read -r exe; do cp "$exe" "$out/tests/"; done
cargo bench -p morph-benches --no-run --message-format=json 2>/dev/null \
    | jq -r 'select(.target.kind == ["bench"] and .executable != null) | .executable' \
    | while read -r exe; do cp "$exe" "$out/benches/"; done
cargo build --release -p morph-render --quiet
cp target/release/morph-render "$out/"
strip "$out"/tests/* "$out"/benches/* "$out/morph-render" 2>/dev/null || true
du -sh "$out"
