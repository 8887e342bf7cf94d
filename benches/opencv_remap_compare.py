#!/usr/bin/env python3
"""morph's CPU STMap against OpenCV `remap`, timed in one run, interleaved.

Same geometry on both sides (and as benches/benches/stmap.rs): a 1920x1080
RGBA float32 Front, a 0.9x zoom with a 0.3 rad rotation about the centre,
Repeat Off / BORDER_CONSTANT (black), no matte, the output allocated per
call by each. OpenCV's maps are in pixels with centres at integers, so they
are ours minus 0.5; ours is the normalised STMap (R = s, G = t from the
bottom) the `stmap_bench` example builds.

Pairs, one image (a fresh output on both sides): nearest <-> INTER_NEAREST,
linear <-> INTER_LINEAR, catmull-rom and mitchell <-> INTER_CUBIC (Keys'
a = -0.75 cubic: same 4x4 cost, a slightly different kernel). Pairs, a frame
of a sequence with a static map (`seq:` rows): ours through a PreparedStMap,
writing into the previous frame's output; OpenCV's remap with the same float
maps writing into `dst=` (also reused), and, for linear, with the maps first
converted by `cv2.convertMaps` to its fixed-point CV_16SC2 + CV_16UC1 form
(OpenCV's own prepared maps: positions rounded to 1/32 px). OpenCV's linear quantises the fraction to 1/32 px and uses
run-time dispatched AVX2 kernels; ours is exact f32 at baseline x86-64 (SSE2),
without `unsafe`.

Ours runs as `stmap_bench --serve` (crates/morph-core/examples): one warm
process per thread count (RAYON_NUM_THREADS), timing one `stmap()` call per
request and printing its wall and CPU time (all threads, from
/proc/self/task/*/schedstat). OpenCV runs in this process with
cv2.setNumThreads(N), wall from perf_counter and CPU from process_time. For
every thread count, each run times every pair once, OpenCV then ours, so a
burst of load from other processes hits both alike. Prints min and median of
wall and CPU time per pair and the ratios ours / OpenCV (below 1: ours is
faster).

    cargo build --release -p morph-core --features test-support --example stmap_bench
    pip install opencv-python-headless numpy
    python3 benches/opencv_remap_compare.py [--threads 1 2] [--runs 21]
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import time

import cv2
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "target" / "release" / "examples" / "stmap_bench"
# (ours, OpenCV's label, its interpolation, its maps: "float" or "fixed",
# whether it writes into a reused dst)
PAIRS = [
    ("nearest", "INTER_NEAREST", cv2.INTER_NEAREST, "float", False),
    ("linear", "INTER_LINEAR", cv2.INTER_LINEAR, "float", False),
    ("catmull-rom", "INTER_CUBIC", cv2.INTER_CUBIC, "float", False),
    ("mitchell", "INTER_CUBIC", cv2.INTER_CUBIC, "float", False),
    ("seq:nearest", "NEAREST dst=", cv2.INTER_NEAREST, "float", True),
    ("seq:linear", "LINEAR dst=", cv2.INTER_LINEAR, "float", True),
    ("seq:linear", "LINEAR 16SC2", cv2.INTER_LINEAR, "fixed", True),
    ("seq:catmull-rom", "CUBIC dst=", cv2.INTER_CUBIC, "float", True),
]


def maps(w, h, angle=0.3, zoom=0.9):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    cx, cy = w / 2.0, h / 2.0
    dx, dy = (xx - cx) * zoom, (yy - cy) * zoom
    u = cx + np.cos(angle) * dx - np.sin(angle) * dy
    v = cy + np.sin(angle) * dx + np.cos(angle) * dy
    return (u - 0.5).astype(np.float32), (v - 0.5).astype(np.float32)


class Ours:
    """A warm `stmap_bench --serve` process."""

    def __init__(self, bench, threads, size):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        self.proc = subprocess.Popen(
            [str(bench), "--size", size, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        ready = self.proc.stdout.readline().split()
        if not ready or ready[0] != "ready" or ready[1] != f"threads={threads}":
            raise SystemExit(f"stmap_bench did not start as asked: {ready}")

    def time(self, name):
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        fields = dict(f.split("=") for f in self.proc.stdout.readline().split())
        return float(fields["ms"]), float(fields["cpu_ms"])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def time_cv(src, maps, interp, dst):
    w0, c0 = time.perf_counter(), time.process_time()
    if dst is None:
        cv2.remap(src, maps[0], maps[1], interp, borderMode=cv2.BORDER_CONSTANT)
    else:
        cv2.remap(src, maps[0], maps[1], interp, dst=dst, borderMode=cv2.BORDER_CONSTANT)
    return (time.perf_counter() - w0) * 1e3, (time.process_time() - c0) * 1e3


def summary(v):
    return min(v), statistics.median(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--bench", type=pathlib.Path, default=BENCH, help="the stmap_bench executable (another build to compare)")
    ap.add_argument("--only", nargs="+", help="run only the rows whose ours name is listed (e.g. linear seq:linear)")
    args = ap.parse_args()
    if not args.bench.exists():
        raise SystemExit(f"{args.bench} missing: cargo build --release -p morph-core --features test-support --example stmap_bench")
    w, h = (int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(1)
    src = rng.random((h, w, 4), dtype=np.float32)
    mx, my = maps(w, h)
    fixed = cv2.convertMaps(mx, my, cv2.CV_16SC2)
    cv_maps = {"float": (mx, my), "fixed": fixed}
    dst = np.empty_like(src)
    pairs = [p for p in PAIRS if not args.only or p[0] in args.only]
    print(f"OpenCV {cv2.__version__}, {w}x{h} RGBA float32, {args.runs} interleaved runs, {os.cpu_count()} CPUs")
    for threads in args.threads:
        cv2.setNumThreads(threads)
        ours = Ours(args.bench, threads, args.size)

        def run_pair(pair):
            name, _, interp, kind, reuse = pair
            cv = time_cv(src, cv_maps[kind], interp, dst if reuse else None)
            return cv, ours.time(name)

        times = [{"cv": [], "ours": []} for _ in pairs]
        for pair in pairs:  # warm-up
            run_pair(pair)
        for _ in range(args.runs):
            for k, pair in enumerate(pairs):
                cv, o = run_pair(pair)
                times[k]["cv"].append(cv)
                times[k]["ours"].append(o)
        ours.close()
        print(f"\n{threads} thread(s) (cv2.getNumThreads() = {cv2.getNumThreads()}, RAYON_NUM_THREADS = {threads})")
        print(
            f"{'ours':16} {'OpenCV':14} | {'wall ms: ours min/med':>22} {'OpenCV min/med':>15} {'ratio min/med':>14}"
            f" | {'cpu ms: ours min/med':>21} {'OpenCV min/med':>15} {'ratio min/med':>14}"
        )
        for (name, label, *_), t in zip(pairs, times):
            row = f"{name:16} {label:14}"
            for k in (0, 1):
                o = summary([v[k] for v in t["ours"]])
                c = summary([v[k] for v in t["cv"]])
                row += (
                    f" | {o[0]:10.1f} {o[1]:6.1f}      {c[0]:6.1f} {c[1]:6.1f}"
                    f"    {o[0] / c[0]:5.2f} {o[1] / c[1]:5.2f}"
                )
            print(row)


if __name__ == "__main__":
    main()
