#!/usr/bin/env python3
"""morph's CPU optical flow against OpenCV's DIS, on synthetic 1080p pairs
with exact ground truth, in one run: end-point error and time.

Pairs are built from scikit-image's sample photos (astronaut, coffee, rocket,
chelsea, camera, immunohistochemistry; public domain / CC0), tiled into one
2280x1400 mosaic and resampled with Lanczos-4, so the motion is known at
every pixel. The Middlebury pair scikit-image ships (and any video clips)
are held out for evaluation and never used here.

Cases (motion of frame B relative to A, +x right, +y down):
  translation   (13.3, -7.6) px
  subpixel      (0.37, 0.81) px
  large         (61.5, -27.25) px
  rotation      2 degrees about the centre (up to 38 px at the corners)
  zoom          x1.04 about the centre (up to 44 px)
  layers        background (-6, 3) px, a 180-px-radius disk (24, 10) px
                over it: occlusion on both sides of the disk
  brightness    (8.5, 4.5) px and B's code values x1.3 + 0.05 (clipped)
  noise         (4.2, 2.9) px with independent Gaussian noise (sigma 3/255,
                seeded) in both frames, like sensor noise or grain
Every frame is 8-bit (rounded), as a camera or PNG would give it.

Everyone sees the same frames: OpenCV DIS (presets ultrafast and medium,
grey input, its default threads) and morph through the
`crates/morph-core/examples/flow_bench.rs` executable (RGBA f32 input,
`FlowParams::default()` unless flags say otherwise). Times are the median of
--reps runs after one warm-up, the methods interleaved run by run so that
they share the machine's load; for morph the figure is the library call
alone (flow_bench's compute_ms), for DIS the `calc` call alone.

Usage (from the repository root):
  cargo build --release -p morph-core --example flow_bench
  python3 benches/flow_compare.py [--reps 5] [--quality 1/2 1/4 ...]
                                  [--cases translation zoom ...] [--size 1920x1080]
                                  [--extra "--alpha 1.5"]
Needs numpy, opencv-python-headless, scikit-image.
"""

import argparse
import os
import pathlib
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import skimage.data

ROOT = pathlib.Path(__file__).resolve().parent.parent
CELL_W, CELL_H = 760, 700


def mosaic():
    """2280x1400 RGB float32 in 0..1: six photos, each scaled to cover a
    760x700 cell (bicubic) and centre-cropped."""
    photos = [
        skimage.data.astronaut(), skimage.data.coffee(), skimage.data.rocket(),
        skimage.data.chelsea(), np.repeat(skimage.data.camera()[..., None], 3, axis=2),
        skimage.data.immunohistochemistry(),
    ]
    out = np.zeros((2 * CELL_H, 3 * CELL_W, 3), np.float32)
    for i, p in enumerate(photos):
        h, w = p.shape[:2]
        s = max(CELL_W / w, CELL_H / h)
        nw, nh = int(np.ceil(w * s)), int(np.ceil(h * s))
        r = cv2.resize(p, (nw, nh), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        x0, y0 = (nw - CELL_W) // 2, (nh - CELL_H) // 2
        row, col = divmod(i, 3)
        out[row * CELL_H:(row + 1) * CELL_H, col * CELL_W:(col + 1) * CELL_W] = \
            r[y0:y0 + CELL_H, x0:x0 + CELL_W]
    return np.clip(out, 0.0, 1.0)


def sprite_source():
    """The cat's face at 2x, for the moving disk."""
    cat = skimage.data.chelsea().astype(np.float32) / 255.0
    return cv2.resize(cat, (cat.shape[1] * 2, cat.shape[0] * 2), interpolation=cv2.INTER_CUBIC)


def affine(kind, value, w, h):
    """2x3 matrix M of the forward motion m(p) = M [p; 1] in pixel-centre
    coordinates (x + 0.5)."""
    c = np.array([w / 2.0, h / 2.0])
    if kind == "translation":
        a = np.eye(2)
        t = np.array(value, float)
    elif kind == "rotation":
        th = np.deg2rad(value)
        a = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        t = np.zeros(2)
    else:  # zoom
        a = np.eye(2) * value
        t = np.zeros(2)
    return np.hstack([a, (c - a @ c + t)[:, None]])


def apply(m, xs, ys):
    return m[0, 0] * xs + m[0, 1] * ys + m[0, 2], m[1, 0] * xs + m[1, 1] * ys + m[1, 2]


def remap(src, px, py, origin):
    """Samples src at continuous pixel-centre positions (px, py) + origin."""
    mx = (px + origin[0] - 0.5).astype(np.float32)
    my = (py + origin[1] - 0.5).astype(np.float32)
    return cv2.remap(src, mx, my, interpolation=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT)


CASES = {
    "translation": ("translation", (13.3, -7.6)),
    "subpixel": ("translation", (0.37, 0.81)),
    "large": ("translation", (61.5, -27.25)),
    "rotation": ("rotation", 2.0),
    "zoom": ("zoom", 1.04),
    "layers": ("translation", (-6.0, 3.0)),
    "brightness": ("translation", (8.5, 4.5)),
    "noise": ("translation", (4.2, 2.9)),
}


def make_case(name, src, sprite, w, h):
    kind, value = CASES[name]
    origin = ((src.shape[1] - w) / 2.0, (src.shape[0] - h) / 2.0)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    m = affine(kind, value, w, h)
    mi = cv2.invertAffineTransform(m)
    a = remap(src, xs, ys, origin)
    bx, by = apply(mi, xs, ys)
    b = remap(src, bx, by, origin)
    fx, fy = apply(m, xs, ys)
    flow = np.dstack([fx - xs, fy - ys]).astype(np.float32)
    if name == "layers":
        radius, centre, motion = 180.0, np.array([0.36 * w, 0.45 * h]), np.array([24.0, 10.0])
        face = np.array([520.0, 230.0])  # the cat's eye region at 2x
        cb = centre + motion

        def layer(c):
            tex = remap(sprite, xs - c[0], ys - c[1], face)
            d = np.sqrt((xs - c[0]) ** 2 + (ys - c[1]) ** 2)
            return tex, np.clip(radius + 0.5 - d, 0.0, 1.0)[..., None]

        ta, ma = layer(centre)
        tb, mb = layer(cb)
        a = ta * ma + a * (1 - ma)
        b = tb * mb + b * (1 - mb)
        flow[ma[..., 0] > 0.5] = motion
    if name == "brightness":
        b = 1.3 * b + 0.05
    if name == "noise":
        rng = np.random.default_rng(4)
        a = a + rng.normal(0.0, 3.0 / 255.0, a.shape).astype(np.float32)
        b = b + rng.normal(0.0, 3.0 / 255.0, b.shape).astype(np.float32)
    quant = lambda img: np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)
    return quant(a), quant(b), flow


def epe(flow, truth):
    return float(np.mean(np.sqrt(np.sum((flow - truth) ** 2, axis=2))))


class Dis:
    """OpenCV DIS on one pair, timed one `calc` at a time."""

    def __init__(self, preset, a8, b8):
        self.ga = cv2.cvtColor(a8, cv2.COLOR_RGB2GRAY)
        self.gb = cv2.cvtColor(b8, cv2.COLOR_RGB2GRAY)
        self.dis = cv2.DISOpticalFlow_create(preset)
        self.flow = self.dis.calc(self.ga, self.gb, None)  # warm-up

    def once(self):
        t0 = time.perf_counter()
        self.flow = self.dis.calc(self.ga, self.gb, None)
        return (time.perf_counter() - t0) * 1e3

    def finish(self):
        return self.flow


class Morph:
    """flow_bench in --serve mode on one pair: warmed up at start, one timed
    library call per `once`, the flow read back at `finish`."""

    def __init__(self, binary, tmp, a8, b8, quality, extra):
        h, w = a8.shape[:2]
        self.shape = (h, w)
        paths = []
        for tag, img in (("a", a8), ("b", b8)):
            rgba = np.ones((h, w, 4), np.float32)
            rgba[..., :3] = img.astype(np.float32) / 255.0
            p = tmp / f"{tag}.f32"
            rgba.astype("<f4").tofile(p)
            paths.append(str(p))
        self.out = tmp / f"flow_{quality.replace('/', '_')}.f32"
        cmd = [str(binary), *paths, str(w), str(h), str(self.out), "--quality", quality,
               "--serve", *extra]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        if self.proc.stdout.readline().strip() != "ready":
            sys.exit(f"flow_bench failed: {' '.join(cmd)}")

    def once(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        return float(line.strip().split("=")[1])

    def finish(self):
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            sys.exit("flow_bench failed")
        return np.fromfile(self.out, "<f4").reshape(*self.shape, 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--quality", nargs="+", default=["1/2", "1/4"])
    ap.add_argument("--cases", nargs="+", default=list(CASES))
    ap.add_argument("--bin", default=str(ROOT / "target/release/examples/flow_bench"))
    ap.add_argument("--extra", default="", help="flags passed on to flow_bench")
    ap.add_argument("--no-dis", action="store_true", help="skip OpenCV (for tuning)")
    args = ap.parse_args()
    w, h = map(int, args.size.split("x"))
    binary = pathlib.Path(args.bin)
    if not binary.exists():
        sys.exit(f"{binary} not found: cargo build --release -p morph-core --example flow_bench")
    extra = shlex.split(args.extra)

    src = mosaic()
    sprite = sprite_source()
    methods = ([] if args.no_dis else ["DIS ultrafast", "DIS medium"]) + \
        [f"morph {q}" for q in args.quality]
    results = {m: {} for m in methods}
    print(f"{w}x{h}, {os.cpu_count()} CPUs, OpenCV {cv2.__version__} "
          f"({cv2.getNumThreads()} threads), median of {args.reps} runs", flush=True)
    with tempfile.TemporaryDirectory() as td:
        tmp = pathlib.Path(td)
        for name in args.cases:
            a8, b8, truth = make_case(name, src, sprite, w, h)
            runners = {}
            if not args.no_dis:
                runners["DIS ultrafast"] = Dis(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, a8, b8)
                runners["DIS medium"] = Dis(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, a8, b8)
            for q in args.quality:
                runners[f"morph {q}"] = Morph(binary, tmp, a8, b8, q, extra)
            # Interleaved: every method runs once per round, so a change in
            # machine load hits all of them alike.
            times = {m: [] for m in runners}
            for _ in range(args.reps):
                for m, r in runners.items():
                    times[m].append(r.once())
            for m, r in runners.items():
                results[m][name] = (epe(r.finish(), truth), statistics.median(times[m]))
            print(f"  {name:12s} " + "  ".join(
                f"{m}: {results[m][name][0]:.3f} px {results[m][name][1]:.0f} ms" for m in methods),
                flush=True)

    print()
    print("| case | " + " | ".join(f"{m} EPE / ms" for m in methods) + " |")
    print("|---|" + "---|" * len(methods))
    for name in args.cases:
        print(f"| {name} | " + " | ".join(
            f"{results[m][name][0]:.3f} / {results[m][name][1]:.0f}" for m in methods) + " |")
    print("| **mean** | " + " | ".join(
        f"**{np.mean([results[m][n][0] for n in args.cases]):.3f} / "
        f"{np.mean([results[m][n][1] for n in args.cases]):.0f}**" for m in methods) + " |")


if __name__ == "__main__":
    main()
