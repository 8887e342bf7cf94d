#!/usr/bin/env python3
"""OpenCV `remap` timings to set beside `cargo bench -p morph-benches --bench stmap`.

Same geometry as benches/benches/stmap.rs: a 1920x1080 RGBA float32 Front,
a 0.9x zoom with a 0.3 rad rotation about the centre, constant (black)
border, output allocated per call. OpenCV's maps are in pixels with centres
at integers, so they are ours minus 0.5.

    pip install opencv-python-headless numpy
    python3 benches/opencv_remap_compare.py [--threads N] [--runs R]

Prints, per interpolation, the minimum and median wall time and process CPU
time over R runs. Compare the wall minimum with criterion's lower bound for
`stmap/cpu/1920x1080/<filter>` (nearest ↔ INTER_NEAREST, linear ↔
INTER_LINEAR, catmull-rom ↔ INTER_CUBIC, which is Keys' a = -0.75 cubic, not
Catmull-Rom's -0.5: same cost, slightly different kernel) run with the same
number of threads (RAYON_NUM_THREADS). On a shared machine, CPU time is the
steadier of the two.
"""

import argparse
import time

import cv2
import numpy as np


def maps(w, h, angle=0.3, zoom=0.9):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    cx, cy = w / 2.0, h / 2.0
    dx, dy = (xx - cx) * zoom, (yy - cy) * zoom
    u = cx + np.cos(angle) * dx - np.sin(angle) * dy
    v = cy + np.sin(angle) * dx + np.cos(angle) * dy
    return (u - 0.5).astype(np.float32), (v - 0.5).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=0, help="cv2.setNumThreads (0: OpenCV's default)")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    if args.threads:
        cv2.setNumThreads(args.threads)
    w, h = 1920, 1080
    rng = np.random.default_rng(1)
    src = rng.random((h, w, 4), dtype=np.float32)
    mx, my = maps(w, h)
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads, {w}x{h} RGBA float32")
    for name, interp in [("nearest", cv2.INTER_NEAREST), ("linear", cv2.INTER_LINEAR), ("cubic", cv2.INTER_CUBIC)]:
        cv2.remap(src, mx, my, interp, borderMode=cv2.BORDER_CONSTANT)  # warm-up
        wall, cpu = [], []
        for _ in range(args.runs):
            w0, c0 = time.perf_counter(), time.process_time()
            cv2.remap(src, mx, my, interp, borderMode=cv2.BORDER_CONSTANT)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        wall.sort()
        cpu.sort()
        mid = len(wall) // 2
        print(
            f"remap/{name:8} wall min {wall[0] * 1e3:6.1f} ms  median {wall[mid] * 1e3:6.1f} ms"
            f" | cpu min {cpu[0] * 1e3:6.1f} ms  median {cpu[mid] * 1e3:6.1f} ms"
        )


if __name__ == "__main__":
    main()
