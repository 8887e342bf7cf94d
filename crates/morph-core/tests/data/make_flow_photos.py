#!/usr/bin/env python3
"""Writes the two small photo crops the optical-flow tests warp with known
motion (crates/morph-core/src/ops/flow/tests.rs).

- astronaut_256.rgb8: scikit-image's `astronaut` (NASA, public domain), area-
  downscaled 512 -> 256, 256x256 raw 8-bit RGB, rows top-down.
- chelsea_96.rgb8:    scikit-image's `chelsea` (CC0), area-downscaled by 2,
  then the 96x96 crop at (x 110, y 20) of that (the cat's face), raw 8-bit RGB.

Raw bytes, so morph-core (which has no image decoder) can `include_bytes!`
them. Deterministic. Needs numpy, opencv-python-headless, scikit-image.
The Middlebury pair scikit-image also ships is held out and never used here.

Usage: python3 crates/morph-core/tests/data/make_flow_photos.py
"""

import pathlib

import cv2
import numpy as np
import skimage.data

HERE = pathlib.Path(__file__).resolve().parent


def main():
    astro = skimage.data.astronaut()
    astro = cv2.resize(astro, (256, 256), interpolation=cv2.INTER_AREA)
    (HERE / "astronaut_256.rgb8").write_bytes(np.ascontiguousarray(astro, np.uint8).tobytes())

    cat = skimage.data.chelsea()
    h, w = cat.shape[:2]
    cat = cv2.resize(cat, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    crop = cat[20:116, 110:206]
    assert crop.shape == (96, 96, 3), crop.shape
    (HERE / "chelsea_96.rgb8").write_bytes(np.ascontiguousarray(crop, np.uint8).tobytes())


if __name__ == "__main__":
    main()
