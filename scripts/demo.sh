#!/usr/bin/env bash
# The main job on the bundled testdata: builds morph-render (release) and runs
# it over the bundled sequences. Outputs go to target/demo/.
# (Once interpolation lands this becomes a retime of the bundled sequence.)
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"   # silences Mesa's warning
cargo build --release -p morph-render --quiet
mr=target/release/morph-render
out=target/demo
mkdir -p "$out"

$mr info 'testdata/sprite/sprite.####.exr'
$mr devices
# Clamp (every channel, alpha and depth.Z included)
$mr clamp 'testdata/sprite/sprite.####.exr' -o "$out/clamp/sprite.####.exr" --min 0 --max 1
# Frequency separation into three bands and back
$mr frequency 'testdata/sprite/sprite.####.exr' --low "$out/freq/low.####.exr" \
    --mid "$out/freq/mid.####.exr" --high "$out/freq/high.####.exr" --low-size 12 --mid-size 3
$mr frequency-merge --low "$out/freq/low.####.exr" --mid "$out/freq/mid.####.exr" \
    --high "$out/freq/high.####.exr" -o "$out/freq/merged.####.exr"
# Motion vectors between consecutive frames, with a colour-wheel picture
$mr flow 'testdata/pan/pan.####.png' -o "$out/flow/pan.####.exr" --quality 1/2
$mr flow testdata/sprite/sprite.0001.exr testdata/sprite/sprite.0002.exr \
    -o "$out/flow/sprite.flo" --visualize "$out/flow/sprite_flow.png"
echo "demo outputs in $out/"
