#!/usr/bin/env bash
# The main job on the bundled testdata: builds morph-render (release), retimes
# the bundled sequences (4x slow motion of the 8-bit pan, 24 -> 60 fps of the
# half-float EXR with alpha and depth.Z), then runs the other nodes over them.
# Outputs go to target/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"   # silences Mesa's warning
cargo build --release -p morph-render --quiet
mr=target/release/morph-render
out=target/demo
mkdir -p "$out"

$mr info 'testdata/sprite/sprite.####.exr'
$mr devices
# The main job: retimes (one flow per input pair, in-betweens occlusion-aware)
$mr retime 'testdata/pan/pan.####.png' -o "$out/retime/pan_slow.####.png" --factor 4
$mr retime 'testdata/sprite/sprite.####.exr' -o "$out/retime/sprite60.####.exr" \
    --fps-from 24 --fps-to 60 --quality 1/2
# Slow motion with motion blur along the vectors (shutter in output frames)
$mr retime 'testdata/sprite/sprite.####.exr' -o "$out/retime/sprite_blur.####.exr" \
    --factor 2 --motion-blur --samples 9 --shutter 0.5
# Motion blur of the sequence itself, keeping a reference point sharp
$mr motion-blur 'testdata/sprite/sprite.####.exr' -o "$out/motion_blur/sprite.####.exr" \
    --samples 9 --shutter 1
# One in-between, and a transition between two clips (the Morph node)
$mr interpolate testdata/pan/pan.1001.png testdata/pan/pan.1002.png --time 0.5 \
    -o "$out/interpolate/pan_mid.png"
$mr morph 'testdata/pan/pan.####.png' 'testdata/pan/pan.####.png' -o "$out/morph/m.####.png" \
    --range 1002-1007 --mix-to-range --freeze-last
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
# Machine Learning interpolation with the shipped ONNX model (installs the
# ONNX Runtime library into .onnxruntime/ on first use)
ORT_DYLIB_PATH="$(bash scripts/setup-onnxruntime.sh)"
export ORT_DYLIB_PATH
$mr interpolate testdata/pan/pan.1001.png testdata/pan/pan.1002.png --method ml \
    -o "$out/interpolate/pan_mid_ml.png" --engine-cache target/demo/ml-cache
echo "demo outputs in $out/"
