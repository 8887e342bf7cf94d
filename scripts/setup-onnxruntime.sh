#!/usr/bin/env bash
# Finds or installs the ONNX Runtime shared library that morph-ml loads at run
# time (ort's load-dynamic), and prints its full path on stdout.
#
# Order: $ORT_DYLIB_PATH if it names an existing file; else the project-local
# install in .onnxruntime/ (made here on first use: `pip install --target`
# of the onnxruntime wheel, no other packages, nothing outside the repo).
# Idempotent and quiet when the library is already there.
#
# Usage:  export ORT_DYLIB_PATH="$(bash scripts/setup-onnxruntime.sh)"
#         MORPH_ORT_VERSION=1.31.1 (default) picks the wheel version.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${MORPH_ORT_VERSION:-1.31.1}"
dest=.onnxruntime
link="$dest/libonnxruntime.so"

if [ -n "${ORT_DYLIB_PATH:-}" ] && [ -f "$ORT_DYLIB_PATH" ]; then
    echo "$ORT_DYLIB_PATH"
    exit 0
fi

find_lib() { ls "$dest"/site/onnxruntime/capi/libonnxruntime.so.* 2>/dev/null | head -n 1; }

lib="$(find_lib || true)"
if [ -z "$lib" ] || [ ! -f "$dest/version" ] || [ "$(cat "$dest/version")" != "$version" ]; then
    echo "== installing ONNX Runtime $version into $dest/ (pip wheel, library only)" >&2
    py="$(command -v python3 || command -v python || true)"
    if [ -z "$py" ]; then
        echo "error: python3 with pip is needed to install ONNX Runtime; or set ORT_DYLIB_PATH to libonnxruntime.so" >&2
        exit 1
    fi
    rm -rf "$dest"
    mkdir -p "$dest"
    "$py" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
        --target "$dest/site" "onnxruntime==$version" >&2
    echo "$version" > "$dest/version"
    lib="$(find_lib || true)"
    if [ -z "$lib" ]; then
        echo "error: the onnxruntime $version wheel did not contain libonnxruntime.so" >&2
        exit 1
    fi
fi
ln -sf "$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")" "$link"
echo "$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"
