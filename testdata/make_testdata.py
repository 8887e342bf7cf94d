#!/usr/bin/env python3
"""Regenerates morph's bundled test sequences from public-domain photos.

The photos are scikit-image's sample images (astronaut: NASA, public domain;
coffee, chelsea: CC0 by Rachel Michetti and Stefan van der Walt). The
Middlebury stereo pair that scikit-image also ships is held out for evaluation
and never used here.

Every sequence moves with *known* synthetic motion, written to truth.json
next to it, so flow and interpolation tests have exact ground truth:

- pan/pan.####.png    8-bit sRGB RGB, 320x240, frames 1001-1008; the whole
                      picture moves by (1.75, 0.5) px per frame.
- sprite/sprite.####.exr  half-float linear RGBA + `depth.Z`, 256x160,
                      frames 1-6; the background moves (-1.25, 0) px/frame,
                      a round sprite (a crop of another photo) moves
                      (3.5, 1.5) px/frame over it; alpha is the sprite's matte,
                      depth.Z is 10 on the background and 2 on the sprite.
                      Linear values reach above 1.0 (x2 exposure).

Usage: python3 testdata/make_testdata.py   (needs numpy, opencv-python-headless,
scikit-image, OpenEXR; `pip install` them). Output is deterministic.
"""

import json
import pathlib

import cv2
import numpy as np
import OpenEXR
import skimage.data

HERE = pathlib.Path(__file__).resolve().parent


def srgb_to_linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def shifted(src, width, height, origin, velocity, frame_index):
    """Samples `src` so the content moves by `velocity` px per frame.

    Output pixel x of frame i shows source position origin + x - i*velocity
    (pixel centres on both sides), so the forward flow is exactly +velocity.
    Lanczos-4 resampling keeps sub-pixel shifts sharp.
    """
    xs = np.arange(width, dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)
    map_x = np.tile(xs + origin[0] - frame_index * velocity[0], (height, 1))
    map_y = np.tile((ys + origin[1] - frame_index * velocity[1])[:, None], (1, width))
    return cv2.remap(src, map_x.astype(np.float32), map_y.astype(np.float32),
                     interpolation=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT)


def make_pan():
    out = HERE / "pan"
    out.mkdir(exist_ok=True)
    src = skimage.data.astronaut().astype(np.float32) / 255.0
    velocity = (1.75, 0.5)
    frames = range(1001, 1009)
    for i, frame in enumerate(frames):
        img = shifted(src, 320, 240, (100.0, 120.0), velocity, i)
        img8 = np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)
        cv2.imwrite(str(out / f"pan.{frame:04d}.png"), img8[:, :, ::-1])
    truth = {
        "pattern": "pan.####.png", "frames": [frames[0], frames[-1]],
        "size": [320, 240], "colour": "sRGB 8-bit",
        "layers": [{"name": "all", "velocity_px_per_frame": list(velocity)}],
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")


def make_sprite():
    out = HERE / "sprite"
    out.mkdir(exist_ok=True)
    w, h = 256, 160
    bg_src = srgb_to_linear(skimage.data.coffee().astype(np.float32) / 255.0) * 2.0
    sp_src = srgb_to_linear(skimage.data.chelsea().astype(np.float32) / 255.0) * 2.0
    bg_velocity, sp_velocity = (-1.25, 0.0), (3.5, 1.5)
    radius, centre0 = 36.0, (70.0, 60.0)
    frames = range(1, 7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    for i, frame in enumerate(frames):
        bg = shifted(bg_src.astype(np.float32), w, h, (150.0, 100.0), bg_velocity, i)
        cx = centre0[0] + i * sp_velocity[0]
        cy = centre0[1] + i * sp_velocity[1]
        # The sprite's texture moves with its centre: source position is
        # (x - centre) + a fixed point on the cat's face.
        sp = shifted(sp_src.astype(np.float32), w, h, (250.0 - centre0[0], 110.0 - centre0[1]),
                     sp_velocity, i)
        dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        matte = np.clip(radius + 0.5 - dist, 0.0, 1.0)  # 1-px anti-aliased edge
        rgb = sp * matte[..., None] + bg * (1.0 - matte[..., None])
        depth = 2.0 * matte + 10.0 * (1.0 - matte)
        channels = {
            "R": rgb[..., 0].astype(np.float16), "G": rgb[..., 1].astype(np.float16),
            "B": rgb[..., 2].astype(np.float16), "A": matte.astype(np.float16),
            "depth.Z": depth.astype(np.float32),
        }
        header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
        with OpenEXR.File(header, channels) as f:
            f.write(str(out / f"sprite.{frame:04d}.exr"))
    truth = {
        "pattern": "sprite.####.exr", "frames": [frames[0], frames[-1]],
        "size": [w, h], "colour": "scene-linear half float, x2 exposure",
        "layers": [
            {"name": "background", "velocity_px_per_frame": list(bg_velocity)},
            {"name": "sprite", "velocity_px_per_frame": list(sp_velocity),
             "shape": "disk", "radius_px": radius,
             "centre_at_first_frame_px": list(centre0)},
        ],
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")


if __name__ == "__main__":
    make_pan()
    make_sprite()
    print("testdata regenerated under", HERE)
