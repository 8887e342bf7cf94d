#!/usr/bin/env python3
"""The shipped ML model against a plain blend on our own validation triplets:
PSNR, SSIM and time.

The triplets are the ones models/train.py makes for validation (seeded, so
everyone gets the same ones): FlyingChairs-style synthetic motion over the
two scikit-image photos held out of training (coffee, rocket): a moving,
rotating, zooming background, 1-3 occluding elliptical sprites with their own
motion, a brightness drift; 128x128, half at t = 0.5 and half at random t,
with the exact frame at t as truth. The Middlebury pair scikit-image ships and
any video shipped in a Python package are never used.

Methods (more join later: morph's Motion Vectors mode through morph-render):
  blend      (1 - t) * frame0 + t * frame1
  ml-fp32    models/ifnet_lite.onnx through ONNX Runtime (CPU provider)
  ml-fp16    models/ifnet_lite_fp16.onnx

Time is the median over --reps runs of one batch-1 model call per triplet
(ONNX Runtime's CPU provider, its default threads), after a warm-up.

Usage (from the repository root):
  pip install torch onnxruntime==1.31.1 scikit-image numpy
  python3 benches/ml_compare.py [--reps 3] [--count 48]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models"))


def psnr(a, b):
    mse = float(np.mean((a - b) ** 2))
    return 10.0 * np.log10(1.0 / max(mse, 1e-10))


def ssim(a, b):
    from skimage.metrics import structural_similarity

    # CHW -> HWC, data range 1.
    return structural_similarity(a.transpose(1, 2, 0), b.transpose(1, 2, 0),
                                 channel_axis=2, data_range=1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--count", type=int, default=48)
    args = ap.parse_args()

    import onnxruntime as ort
    import train

    xv, yv = train.validation_set(args.count)
    x, y = xv.numpy(), yv.numpy()
    n = x.shape[0]
    half = n // 2

    methods = {}
    t = x[:, 6:7]
    methods["blend"] = (lambda i: x[i, 0:3] * (1 - t[i]) + x[i, 3:6] * t[i], None)
    for name, path, dtype in (("ml-fp32", "ifnet_lite.onnx", np.float32),
                              ("ml-fp16", "ifnet_lite_fp16.onnx", np.float16)):
        sess = ort.InferenceSession(str(ROOT / "models" / path), providers=["CPUExecutionProvider"])

        def run(i, sess=sess, dtype=dtype):
            return sess.run(None, {"input": x[i:i + 1].astype(dtype)})[0][0].astype(np.float32)

        methods[name] = (run, sess)

    print(f"{n} validation triplets, {x.shape[3]}x{x.shape[2]} "
          f"({half} at t = 0.5, {n - half} at random t); ONNX Runtime {ort.__version__}")
    print(f"{'method':10} {'PSNR all':>9} {'PSNR t=.5':>10} {'PSNR rand t':>12} {'SSIM':>7} {'ms/frame':>9}")
    for name, (fn, _) in methods.items():
        outs = [fn(i) for i in range(n)]  # also the warm-up
        times = []
        for _ in range(args.reps):
            start = time.perf_counter()
            for i in range(n):
                fn(i)
            times.append((time.perf_counter() - start) / n * 1e3)
        p = [psnr(o, y[i]) for i, o in enumerate(outs)]
        s = [ssim(o, y[i]) for i, o in enumerate(outs)]
        print(f"{name:10} {np.mean(p):9.2f} {np.mean(p[:half]):10.2f} {np.mean(p[half:]):12.2f} "
              f"{np.mean(s):7.4f} {statistics.median(times):9.2f}")


if __name__ == "__main__":
    main()
