#!/usr/bin/env bash
# The main job on the bundled testdata: builds morph-render (release) and runs
# it over the bundled sequences. Outputs go to target/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p morph-render --quiet
mr=target/release/morph-render
out=target/demo
mkdir -p "$out"

$mr info 'testdata/sprite/sprite.####.exr'
$mr clamp 'testdata/sprite/sprite.####.exr' -o "$out/sprite_clamped.####.exr" --min 0 --max 1
$mr info "$out/sprite_clamped.####.exr"
echo "demo outputs in $out/"
