#!/usr/bin/env python3
"""morph's frame interpolation against a plain blend, ffmpeg's minterpolate
(mi_mode=mci) and an OpenCV DIS-medium warp, on triplets with an exact
middle frame, in one run: PSNR, SSIM and time.

Each triplet is three frames of one synthetic scene at t = 0, 0.5 and 1:
scikit-image's sample photos (the mosaic of `flow_compare.py`: astronaut,
coffee, rocket, chelsea, camera, immunohistochemistry; public domain / CC0)
moved so every point travels linearly (the affine motion interpolated, the
sprite translating), resampled with Lanczos-4 and rounded to 8 bits. The
middle frame is dropped and rebuilt from the outer two. scikit-image's
Middlebury pair and any video clips shipped in Python packages are held out
for evaluation and never used here.

Cases (motion from t = 0 to t = 1): translation (13.3, -7.6) px, large
(61.5, -27.25) px, rotation 2 degrees, zoom x1.04, layers (background
(-6, 3) px, a 180-px disk moving (24, 10) px over it), brightness ((8.5, 4.5)
px, gain 1.3 + 0.05 at t = 1, halfway at 0.5), noise ((4.2, 2.9) px, sigma
3/255 grain in every frame), deform ((5, -3) px and a smooth non-rigid
displacement of five 6-14 px bumps), objects (background (-4, 2) px, three
overlapping disks of other photos moving 27-31 px in different directions),
and, named on the command line only, objects1, objects2, ...: 3-5 disks of
radius 6-20 % of the height moving 10-35 px in random directions over a
background moving up to 8 px, drawn from seed N (small fast objects, where
coarse-to-fine flow is weakest).

Methods:
  blend      (A + B)/2.
  DIS warp   OpenCV DIS (medium preset, grey) both ways, the flows at t
             approximated as in Jiang et al. 2018 (Super SloMo, eq. 4),
             both frames warped (cv2.remap, bicubic) and blended (1-t, t).
             Time: both flows and both warps, in-process.
  ffmpeg     minterpolate=fps=2:mi_mode=mci:mc_mode=aobmc:me_mode=bidir
             (after format=yuv444p: full-resolution chroma) on A A B B as a
             1-fps clip (it emits nothing for two frames), imageio-ffmpeg's
             static build. Time: the whole process (decoding four PNGs,
             encoding four; its YUV round trip alone costs it ~0.3 code
             values of error).
  morph Q    the library (CPU) at analysis quality Q through the
             `interp_bench` example in --serve mode: one warm process per
             pair like OpenCV's, one timed call (flow both ways, pair
             analysis, in-between) per run, no file I/O. (`morph-render
             interpolate` prints the same compute_ms for one call in a cold
             process, some 20 ms more at 720p: first-touch page faults.)
  morph ml   `morph-render interpolate --method ml` (the shipped ONNX
             model, CPU execution provider, engine cache warmed once), its
             compute_ms; needs ONNX Runtime (`scripts/setup-onnxruntime.sh`;
             --no-ml skips it).
Scores over the frame less a 16-px border (content entering the frame is
unknowable). Times are medians of --reps runs, methods interleaved.

Usage (from the repository root):
  cargo build --release -p morph-render -p morph-core --example interp_bench
  pip install imageio-ffmpeg scikit-image opencv-python-headless
  python3 benches/interp_compare.py [--size 1280x720] [--reps 3] [--quality 1/4 1/2]
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
from skimage.metrics import structural_similarity

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import flow_compare as fc  # noqa: E402  (the shared photo mosaic and motion)

ROOT = pathlib.Path(__file__).resolve().parent.parent
BORDER = 16
CASES = ["translation", "large", "rotation", "zoom", "layers", "brightness", "noise",
         "deform", "objects"]
# The two cases flow_compare.py does not have: their background motion.
BASE_MOTION = {"deform": ("translation", (5.0, -3.0)), "objects": ("translation", (-4.0, 2.0))}


def deformation(xs, ys, w, h):
    """A smooth non-rigid displacement over the frame at t = 1, px: five
    Gaussian bumps (sigma 12 % of the width) of 6-14 px in fixed
    directions, the kind of motion a face, cloth or water makes."""
    rng = np.random.default_rng(7)
    dx, dy = np.zeros_like(xs), np.zeros_like(ys)
    sigma = 0.12 * w
    for _ in range(5):
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h
        amp, ang = rng.uniform(6.0, 14.0), rng.uniform(0, 2 * np.pi)
        g = amp * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma ** 2))
        dx += g * np.cos(ang)
        dy += g * np.sin(ang)
    return dx, dy


# Three disks for "objects" (back to front): centre at t = 0 (fractions of
# the frame), radius (fraction of the height), motion to t = 1 (px), and
# the point of the mosaic each one shows.
OBJECTS = [
    ((0.30, 0.40), 0.22, (30.0, 6.0), (1500.0, 400.0)),
    ((0.62, 0.45), 0.17, (-22.0, 12.0), (300.0, 1000.0)),
    ((0.45, 0.70), 0.12, (9.0, -26.0), (1900.0, 1100.0)),
]


def random_objects(seed):
    """Case "objectsN": 3-5 disks (radius 6-20 % of the height, 10-35 px
    in any direction, textures from anywhere in the mosaic) over a
    background moving up to 8 px, drawn from seed N."""
    rng = np.random.default_rng(1000 + seed)
    disks = []
    for _ in range(rng.integers(3, 6)):
        speed, ang = rng.uniform(10.0, 35.0), rng.uniform(0, 2 * np.pi)
        disks.append(((rng.uniform(0.2, 0.8), rng.uniform(0.25, 0.75)), rng.uniform(0.06, 0.2),
                      (speed * np.cos(ang), speed * np.sin(ang)),
                      (rng.uniform(300, 1980), rng.uniform(300, 1100))))
    base = tuple(rng.uniform(-8.0, 8.0, 2))
    return disks, base


def frame_at(name, src, sprite, w, h, t, rng_seed):
    """The scene at time t (uint8 RGB)."""
    objects = OBJECTS
    if name.startswith("objects") and name != "objects":
        objects, base = random_objects(int(name[len("objects"):]))
        kind, value = "translation", base
    else:
        kind, value = BASE_MOTION.get(name) or fc.CASES[name]
    origin = ((src.shape[1] - w) / 2.0, (src.shape[0] - h) / 2.0)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    m = fc.affine(kind, value, w, h)
    ident = np.hstack([np.eye(2), np.zeros((2, 1))])
    mt = (1.0 - t) * ident + t * m  # every point moves linearly
    mi = cv2.invertAffineTransform(mt)
    px, py = fc.apply(mi, xs, ys)
    if name == "deform":
        # A point p of frame 0 is at p + t D(p) at t: the source of pixel
        # x is the fixed point p = x - t D(p) (D is smooth: 8 steps leave
        # it converged far below a hundredth of a pixel).
        qx, qy = xs.copy(), ys.copy()
        for _ in range(8):
            dx, dy = deformation(qx, qy, w, h)
            qx, qy = xs - t * dx, ys - t * dy
        px, py = fc.apply(mi, qx, qy)
    img = fc.remap(src, px, py, origin)
    if name.startswith("objects"):
        for (fx, fy), r, motion, face in objects:
            c = np.array([fx * w, fy * h]) + t * np.array(motion)
            radius = r * h
            tex = fc.remap(src, xs - c[0], ys - c[1], face)
            d = np.sqrt((xs - c[0]) ** 2 + (ys - c[1]) ** 2)
            matte = np.clip(radius + 0.5 - d, 0.0, 1.0)[..., None]
            img = tex * matte + img * (1 - matte)
    if name == "layers":
        radius, centre, motion = 180.0, np.array([0.36 * w, 0.45 * h]), np.array([24.0, 10.0])
        face = np.array([520.0, 230.0])
        c = centre + t * motion
        tex = fc.remap(sprite, xs - c[0], ys - c[1], face)
        d = np.sqrt((xs - c[0]) ** 2 + (ys - c[1]) ** 2)
        matte = np.clip(radius + 0.5 - d, 0.0, 1.0)[..., None]
        img = tex * matte + img * (1 - matte)
    if name == "brightness":
        img = (1.0 + 0.3 * t) * img + 0.05 * t
    if name == "noise":
        rng = np.random.default_rng(rng_seed)
        img = img + rng.normal(0.0, 3.0 / 255.0, img.shape).astype(np.float32)
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def scores(got, truth):
    g = got[BORDER:-BORDER, BORDER:-BORDER].astype(np.float64)
    r = truth[BORDER:-BORDER, BORDER:-BORDER].astype(np.float64)
    mse = np.mean((g - r) ** 2)
    psnr = 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))
    ssim = structural_similarity(g, r, channel_axis=2, data_range=255.0)
    return psnr, ssim


class Blend:
    def __init__(self, a, b, tmp):
        self.a, self.b = a, b

    def once(self):
        t0 = time.perf_counter()
        self.out = ((self.a.astype(np.uint16) + self.b) / 2.0 + 0.5).astype(np.uint8)
        return (time.perf_counter() - t0) * 1e3


class DisWarp:
    def __init__(self, a, b, tmp):
        self.a, self.b = a, b
        self.ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
        self.gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        h, w = a.shape[:2]
        self.grid = np.mgrid[0:h, 0:w][::-1].astype(np.float32)
        self.once()  # warm-up

    def once(self, t=0.5):
        t0 = time.perf_counter()
        f01 = self.dis.calc(self.ga, self.gb, None)
        f10 = self.dis.calc(self.gb, self.ga, None)
        ft0 = -(1 - t) * t * f01 + t * t * f10
        ft1 = (1 - t) * (1 - t) * f01 - t * (1 - t) * f10
        wa = cv2.remap(self.a, self.grid[0] + ft0[..., 0], self.grid[1] + ft0[..., 1],
                       cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        wb = cv2.remap(self.b, self.grid[0] + ft1[..., 0], self.grid[1] + ft1[..., 1],
                       cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        self.out = np.clip((1 - t) * wa.astype(np.float32) + t * wb + 0.5, 0, 255).astype(np.uint8)
        return (time.perf_counter() - t0) * 1e3


class Ffmpeg:
    def __init__(self, a, b, tmp):
        import imageio_ffmpeg

        self.exe = imageio_ffmpeg.get_ffmpeg_exe()
        self.dir = tmp / "ff"
        self.dir.mkdir(exist_ok=True)
        # minterpolate emits nothing for a 2-frame clip: A A B B at 1 fps
        # gives, at 2 fps, A A A (A|B) B; the fourth output is the in-between.
        for i, img in ((1, a), (2, a), (3, b), (4, b)):
            cv2.imwrite(str(self.dir / f"in{i}.png"), img[..., ::-1])

    def once(self):
        for p in self.dir.glob("out*.png"):
            p.unlink()
        cmd = [self.exe, "-v", "error", "-y", "-framerate", "1", "-i", str(self.dir / "in%d.png"),
               "-vf", "format=yuv444p,minterpolate=fps=2:mi_mode=mci:mc_mode=aobmc:me_mode=bidir",
               "-frames:v", "4", str(self.dir / "out%d.png")]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        ms = (time.perf_counter() - t0) * 1e3
        self.out = cv2.imread(str(self.dir / "out4.png"))[..., ::-1]
        return ms


class MorphServe:
    """The interp_bench example in --serve mode: one warm process per pair
    (like OpenCV's), one timed library call (flow both ways, pair analysis,
    in-between) per `once`, the in-between read back at the end."""

    def __init__(self, a, b, tmp, quality, binary, extra=()):
        h, w = a.shape[:2]
        self.shape = (h, w)
        paths = []
        for tag, img in (("a", a), ("b", b)):
            rgba = np.ones((h, w, 4), np.float32)
            rgba[..., :3] = img.astype(np.float32) / 255.0
            p = tmp / f"serve_{tag}.f32"
            rgba.astype("<f4").tofile(p)
            paths.append(str(p))
        self.out_path = tmp / f"serve_{quality.replace('/', '_')}.f32"
        cmd = [str(binary), *paths, str(w), str(h), str(self.out_path), "--quality", quality,
               "--time", "0.5", "--serve", *extra]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        if self.proc.stdout.readline().strip() != "ready":
            sys.exit(f"interp_bench failed: {' '.join(cmd)}")

    def once(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline().strip().split("=")[1])

    @property
    def out(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            if self.proc.wait() != 0:
                sys.exit("interp_bench failed")
        rgba = np.fromfile(self.out_path, "<f4").reshape(*self.shape, 4)
        return np.clip(np.round(rgba[..., :3] * 255.0), 0, 255).astype(np.uint8)


class Morph:
    def __init__(self, a, b, tmp, quality, binary, method="mv"):
        self.binary, self.quality, self.method = binary, quality, method
        self.pa, self.pb = tmp / "a.png", tmp / "b.png"
        cv2.imwrite(str(self.pa), a[..., ::-1])
        cv2.imwrite(str(self.pb), b[..., ::-1])
        self.po = tmp / f"morph_{method}_{quality.replace('/', '_')}.png"

    def once(self):
        cmd = [str(self.binary), "interpolate", str(self.pa), str(self.pb), "--time", "0.5",
               "--quality", self.quality, "--platform", "cpu", "--method", self.method,
               "--engine-cache", str(self.po.parent / "ml-cache"), "-o", str(self.po)]
        r = subprocess.run(cmd, check=True, capture_output=True, text=True,
                           env={**os.environ, "XDG_RUNTIME_DIR": "/tmp"})
        ms = next(float(tok.split("=")[1]) for tok in r.stdout.split() if tok.startswith("compute_ms="))
        self.out = cv2.imread(str(self.po))[..., ::-1]
        return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quality", nargs="+", default=["1/4", "1/2"])
    ap.add_argument("--cases", nargs="+", default=CASES)
    ap.add_argument("--bin", default=str(ROOT / "target/release/morph-render"))
    ap.add_argument("--bench-bin", default=str(ROOT / "target/release/examples/interp_bench"))
    ap.add_argument("--no-ffmpeg", action="store_true")
    ap.add_argument("--extra", default="", help="flags passed on to interp_bench (tuning)")
    ap.add_argument("--no-ml", action="store_true", help="skip --method ml (ONNX Runtime)")
    args = ap.parse_args()
    w, h = map(int, args.size.split("x"))
    binary = pathlib.Path(args.bin)
    bench_binary = pathlib.Path(args.bench_bin)
    for b in (binary, bench_binary):
        if not b.exists():
            sys.exit(f"{b} not found: cargo build --release -p morph-render "
                     "-p morph-core --example interp_bench")
    src, sprite = fc.mosaic(), fc.sprite_source()
    methods = ["blend", "DIS warp"] + ([] if args.no_ffmpeg else ["ffmpeg mci"]) + \
        [f"morph {q}" for q in args.quality] + ([] if args.no_ml else ["morph ml"])
    results = {m: {} for m in methods}
    print(f"{w}x{h}, {os.cpu_count()} CPUs, OpenCV {cv2.__version__}, median of {args.reps}",
          flush=True)
    with tempfile.TemporaryDirectory() as td:
        tmp = pathlib.Path(td)
        for name in args.cases:
            a, mid, b = (frame_at(name, src, sprite, w, h, t, seed)
                         for t, seed in ((0.0, 1), (0.5, 2), (1.0, 3)))
            runners = {"blend": Blend(a, b, tmp), "DIS warp": DisWarp(a, b, tmp)}
            if not args.no_ffmpeg:
                runners["ffmpeg mci"] = Ffmpeg(a, b, tmp)
            for q in args.quality:
                runners[f"morph {q}"] = MorphServe(a, b, tmp, q, bench_binary,
                                                   args.extra.split())
            if not args.no_ml:
                runners["morph ml"] = Morph(a, b, tmp, "1/4", binary, "ml")
                runners["morph ml"].once()  # warm-up: writes the engine cache
            times = {m: [] for m in runners}
            for _ in range(args.reps):
                for m, r in runners.items():
                    times[m].append(r.once())
            for m, r in runners.items():
                results[m][name] = (*scores(r.out, mid), statistics.median(times[m]))
            print(f"  {name:12s} " + "  ".join(
                f"{m}: {results[m][name][0]:.2f} dB {results[m][name][2]:.0f} ms"
                for m in methods), flush=True)
    print()
    print("| case | " + " | ".join(f"{m} PSNR / SSIM / ms" for m in methods) + " |")
    print("|---|" + "---|" * len(methods))
    for name in args.cases:
        print(f"| {name} | " + " | ".join(
            "{:.2f} / {:.4f} / {:.0f}".format(*results[m][name]) for m in methods) + " |")
    print("| **mean** | " + " | ".join(
        "**{:.2f} / {:.4f} / {:.0f}**".format(
            *(np.mean([results[m][n][i] for n in args.cases]) for i in range(3)))
        for m in methods) + " |")


if __name__ == "__main__":
    main()
