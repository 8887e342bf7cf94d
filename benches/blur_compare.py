#!/usr/bin/env python3
"""Frequency/blur speed against OpenCV, measured in one run on one machine.

Times OpenCV's GaussianBlur (sigma = r/3, kernel 2*ceil(3 sigma)+1, the same
Gaussian morph uses) and boxFilter (2r+1 window) on a 1920x1080 RGBA float32
image, and morph's CPU Frequency node (2 bands: one blur plus a subtraction)
through `morph-render frequency --json`, whose frame events carry the
in-process compute_ms (no file I/O). Prints a table of medians.

Usage: cargo build --release -p morph-render
       python3 benches/blur_compare.py [--reps 5] [--bin target/release/morph-render]
Needs numpy, opencv-python-headless, OpenEXR (pip).
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import tempfile
import time

import cv2
import numpy as np
import OpenEXR

RADII = [5, 50, 1000]


def opencv_ms(img, filt, r, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        if filt == "gaussian":
            sigma = r / 3.0
            k = 2 * int(np.ceil(3 * sigma)) + 1
            cv2.GaussianBlur(img, (k, k), sigma, borderType=cv2.BORDER_REPLICATE)
        else:
            k = 2 * r + 1
            cv2.boxFilter(img, -1, (k, k), normalize=True, borderType=cv2.BORDER_REPLICATE)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def morph_ms(binary, src, tmp, filt, r, reps):
    out = subprocess.run(
        [binary, "--json", "frequency", src, "-f", f"1-{reps}", "--low", f"{tmp}/lo.####.exr",
         "--high", f"{tmp}/hi.####.exr", "--filter", filt, "--low-size", str(r),
         "--platform", "cpu"],
        check=True, capture_output=True, text=True).stdout
    times = [json.loads(l)["compute_ms"] for l in out.splitlines()
             if json.loads(l).get("event") == "frame"]
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bin", default="target/release/morph-render")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    img = rng.random((1080, 1920, 4), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        header = {"compression": OpenEXR.NO_COMPRESSION, "type": OpenEXR.scanlineimage}
        chans = {c: img[..., i].copy() for i, c in enumerate("RGBA")}
        for f in range(1, args.reps + 1):
            with OpenEXR.File(header, chans) as fh:
                fh.write(f"{tmp}/src.{f:04d}.exr")
        print(f"1920x1080 RGBA float32, median of {args.reps}, OpenCV {cv2.__version__}, "
              f"{cv2.getNumThreads()} OpenCV threads")
        print(f"{'filter':10} {'r':>5} {'OpenCV ms':>10} {'morph ms':>10} {'ratio':>7}")
        for filt in ["gaussian", "box"]:
            for r in RADII:
                cv = opencv_ms(img, filt, r, args.reps)
                mo = morph_ms(args.bin, f"{tmp}/src.####.exr", tmp, filt, r, args.reps)
                print(f"{filt:10} {r:5} {cv:10.1f} {mo:10.1f} {cv / mo:7.1f}x")


if __name__ == "__main__":
    main()
