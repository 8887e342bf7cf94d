#!/usr/bin/env python3
"""Compare `morph-render stmap` with OpenImageIO's `oiiotool --st_warp`.

For the filters both have, on the same Front and STMap:

    ours (--filter)   oiiotool (--st_warp:filter=)   kernel
    nearest           box        (width 1)           point
    linear            triangle   (width 2)           bilinear
    mitchell          mitchell   (width 4)           cubic B = C = 1/3
    catmull-rom       catmull-rom (width 4)          cubic B = 0, C = 1/2

OpenImageIO's st_warp puts the origin at the top-left, so it runs with
`flip_t=1`; it does not widen its filter with the map's derivatives (the
filter is scaled by the output/Front size ratio only, 1 here), so the maps
used magnify or keep scale, where both sides compute the same kernel. At the
image edges the two differ on purpose (OpenImageIO renormalises the kernel
over the pixels inside, our `Repeat Off` fades to transparent black), so the
comparison leaves out every pixel whose sample lies within 4 px of a Front
edge.

Maps:
  identity  - the identity STMap: both sides must return the Front;
  rotate    - a 0.3 rad rotation with a 1.25x magnification about the centre.

Usage (from the repository root):

    apt-get install -y openimageio-tools   # oiiotool
    pip install numpy OpenEXR              # EXR I/O for this script
    cargo build --release -p morph-render
    python3 benches/oiio_stmap_compare.py [--workdir DIR] [--morph-render PATH]

`--inputs-only` just writes front.exr and the STMaps into the work directory;
`--ours DIR` compares against `ours_<map>_<filter>.exr` files already there
instead of running morph-render. Exit status: 0 when every comparison is
within tolerance, 1 when one is not, 2 when a tool is missing or fails.
"""

import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

try:
    import OpenEXR
except ImportError:  # pragma: no cover - message for the user
    sys.exit("needs the OpenEXR Python package: pip install OpenEXR")

FILTERS = [
    ("nearest", "box"),
    ("linear", "triangle"),
    ("mitchell", "mitchell"),
    ("catmull-rom", "catmull-rom"),
]

# Allowed differences over the compared region. Both sides compute in
# float32; OpenImageIO evaluates its kernels through generic Filter2D code
# and renormalises by the weight sum, we use closed-form weights: a few ulps
# (~1e-6 RMSE). On top of that we put samples within tau = 2^-21 * (W + 1)
# px of a pixel centre exactly on it (exact identity maps): 3e-4 px at
# 640 px, times this Front's steepest gradient (~1 per px) gives the max.
# Nearest may differ where a sample falls on a pixel edge (ties), so it is
# judged on the share of differing pixels.
MAX_DIFF = 5e-4
MAX_RMSE = 1e-5
NEAREST_MAX_DIFFERENT = 1e-3  # share of pixels
MARGIN = 4  # samples closer than this to a Front edge are left out


def write_exr(path, rgba):
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    channels = {name: np.ascontiguousarray(rgba[:, :, i], dtype=np.float32) for i, name in enumerate("RGBA")}
    with OpenEXR.File(header, channels) as f:
        f.write(path)


def read_exr(path):
    with OpenEXR.File(path) as f:
        ch = f.channels()
        if "RGBA" in ch:
            return np.asarray(ch["RGBA"].pixels, dtype=np.float32)
        return np.stack([np.asarray(ch[c].pixels, dtype=np.float32) for c in "RGBA"], axis=-1)


def front_image(w, h):
    """A zone plate in three phases plus seeded noise, alpha varying too."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r2 = (xx - w / 2) ** 2 + (yy - h / 2) ** 2
    ph = np.pi * 0.4 * r2 / max(w, h)
    noise = np.random.default_rng(7).random((h, w))
    img = np.stack(
        [
            0.5 + 0.4 * np.cos(ph) + 0.1 * noise,
            0.5 + 0.4 * np.cos(ph + 2.0),
            0.5 + 0.4 * np.cos(ph + 4.0),
            0.75 + 0.25 * np.cos(xx / 17.0),
        ],
        axis=-1,
    )
    return img.astype(np.float32)


def stmap_image(w, h, angle, zoom):
    """STMap of a rotation by `angle` and a scale by 1/zoom about the centre:
    output pixel centre (x+.5, y+.5) samples the Front there; s, t normalised,
    t from the bottom (SPEC section 3)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    cx, cy = w / 2.0, h / 2.0
    dx, dy = (xx - cx) / zoom, (yy - cy) / zoom
    u = cx + np.cos(angle) * dx - np.sin(angle) * dy
    v = cy + np.sin(angle) * dx + np.cos(angle) * dy
    s, t = u / w, (h - v) / h
    return np.stack([s, t, np.zeros_like(s), np.ones_like(s)], axis=-1).astype(np.float32)


def run(cmd):
    print("  $", " ".join(cmd))
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout + done.stderr)
    return done.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/morph_oiio_stmap")
    ap.add_argument("--morph-render", default=None, help="path to morph-render (default: target/release, then PATH)")
    ap.add_argument("--inputs-only", action="store_true")
    ap.add_argument("--ours", default=None, help="directory holding ours_<map>_<filter>.exr instead of running morph-render")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    w, h = 640, 480
    front = os.path.join(args.workdir, "front.exr")
    write_exr(front, front_image(w, h))
    maps = {
        "identity": stmap_image(w, h, 0.0, 1.0),
        "rotate": stmap_image(w, h, 0.3, 1.25),
    }
    for name, img in maps.items():
        write_exr(os.path.join(args.workdir, f"stmap_{name}.exr"), img)
    print(f"inputs in {args.workdir}: front.exr ({w}x{h} RGBA float), stmap_identity.exr, stmap_rotate.exr")
    if args.inputs_only:
        return 0

    oiiotool = shutil.which("oiiotool")
    if not oiiotool:
        print("oiiotool not found: apt-get install -y openimageio-tools")
        return 2
    morph = args.morph_render
    if args.ours is None and morph is None:
        candidate = os.path.join("target", "release", "morph-render")
        morph = candidate if os.path.exists(candidate) else shutil.which("morph-render")
        if morph is None:
            print("morph-render not found: cargo build --release -p morph-render, or pass --morph-render / --ours")
            return 2

    failures = 0
    print(f"{'map':9} {'filter':12} {'max |diff|':>11} {'rmse':>10} {'differing px':>13}  verdict")
    for map_name in maps:
        stmap = os.path.join(args.workdir, f"stmap_{map_name}.exr")
        for ours_filter, oiio_filter in FILTERS:
            theirs = os.path.join(args.workdir, f"oiio_{map_name}_{ours_filter}.exr")
            if not run([oiiotool, front, stmap, f"--st_warp:filter={oiio_filter}:flip_t=1", "-d", "float", "-o", theirs]):
                return 2
            ours_dir = args.ours or args.workdir
            ours = os.path.join(ours_dir, f"ours_{map_name}_{ours_filter}.exr")
            if args.ours is None:
                cmd = [morph, "stmap", front, stmap, "-o", ours, "--filter", ours_filter,
                       "--repeat", "off", "--framing", "entire", "--platform", "cpu", "--depth", "float"]
                if not run(cmd):
                    print("morph-render stmap failed (is the stmap command wired yet?)")
                    return 2
            a, b = read_exr(ours), read_exr(theirs)
            if a.shape != b.shape:
                print(f"{map_name:9} {ours_filter:12} shapes differ: ours {a.shape}, oiio {b.shape}")
                failures += 1
                continue
            # Only pixels whose whole footprint (cubic: ±2 px) is inside the Front.
            st = maps[map_name]
            u, v = st[:, :, 0] * w, (1.0 - st[:, :, 1]) * h
            inside = (u >= MARGIN) & (u <= w - MARGIN) & (v >= MARGIN) & (v <= h - MARGIN)
            d = np.abs(a - b)[inside]
            max_d, rmse = float(d.max()), float(np.sqrt((d ** 2).mean()))
            differing = float((d.max(axis=-1) > 1e-6).mean())
            m = MARGIN
            if ours_filter == "nearest":
                ok = differing <= NEAREST_MAX_DIFFERENT
            else:
                ok = max_d <= MAX_DIFF and rmse <= MAX_RMSE
            if map_name == "identity":
                # Both must reproduce the Front (Mitchell blurs by design).
                exact = float(np.abs(a - read_exr(front))[m:-m, m:-m].max())
                ok = ok and (ours_filter == "mitchell" or exact == 0.0)
            failures += not ok
            print(f"{map_name:9} {ours_filter:12} {max_d:11.3e} {rmse:10.3e} {differing * 100:12.3f}%  {'ok' if ok else 'FAIL'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
