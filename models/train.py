#!/usr/bin/env python3
"""Design, train and export morph's shipped frame-interpolation model.

IFNet-lite: a three-scale, coarse-to-fine network in the style of RIFE's IFNet
(Huang et al., "Real-Time Intermediate Flow Estimation for Video Frame
Interpolation", ECCV 2022), cut down to ~0.3 M parameters. Each scale's block
sees both frames, the timestep plane and (after the first) both frames
backward-warped by the current flow; it refines two flows (t->0 and t->1, in
pixels) and a fusion-mask logit. The output is

    out = sigmoid(m) * warp(img0, F_t0) + (1 - sigmoid(m)) * warp(img1, F_t1)

so it is a per-pixel convex mix of the two warped inputs (never outside their
range). Interface (SPEC section 6, the common RIFE export): one NCHW float
tensor `input` of 7 channels (img0 RGB, img1 RGB, constant timestep plane),
values 0..1, height and width multiples of 32; output `output`, NCHW RGB.

Training data are made here, FlyingChairs-style: a background photo from
scikit-image's bundled images under a random affine camera motion, 1-3
occluding sprites (ellipses cut from other photos) with their own affine
motions, and a global brightness drift. Frames are rendered at 0, t and 1 from
the same continuous motion, so the frame at t is exact. `coffee` and `rocket`
are held out of training and make the validation triplets;
`stereo_motorcycle` (Middlebury) and any video shipped in a Python package are
never used.

Usage:
    pip install torch onnx onnxruntime==1.31.1 scikit-image numpy
    python models/train.py                 # train (20-min cap), export, evaluate
    python models/train.py --replay-lr models/train_log.lr   # the shipped run, exactly
    python models/train.py --export-only   # re-export from models/ifnet_lite.pt
    python models/train.py --wrong-model   # only the tiny wrong-interface test model

Everything is seeded (torch, numpy, data order). Training stops at --iters or
at the --max-minutes wall-time cap, whichever comes first, with the cosine
schedule annealed either way; the per-iteration learning rates go to
train_log.lr, and --replay-lr re-runs exactly those iterations, so a run cut
by the time cap reproduces too (same torch version, one thread).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
MODEL_NAME = "ifnet_lite"
SEED = 20261122
CROP = 64
TRAIN_PHOTOS = [
    "astronaut", "chelsea", "camera", "coins", "immunohistochemistry",
    "hubble_deep_field", "retina", "brick", "grass", "gravel", "colorwheel",
    "logo", "moon", "page", "text", "cell", "clock",
]
VAL_PHOTOS = ["coffee", "rocket"]
# Largest displacement between frame 0 and frame 1, in pixels (background
# and sprites). The tiler's overlap in morph-ml is chosen from this.
MAX_MOTION = 20.0
PHOTO_SIZE = 256


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2))


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(x) = img(x + flow(x)), bilinear, border clamp.

    Pixel centres at i + 0.5 (SPEC section 1); flow in pixels, +x right, +y down.
    """
    _, _, h, w = img.shape
    # ONNX Range has no float16: count in float32, then cast (fp16 export).
    xs = (torch.arange(w, dtype=torch.float32, device=img.device) + 0.5).to(img.dtype).view(1, 1, w)
    ys = (torch.arange(h, dtype=torch.float32, device=img.device) + 0.5).to(img.dtype).view(1, h, 1)
    gx = (xs + flow[:, 0]) * (2.0 / w) - 1.0
    gy = (ys + flow[:, 1]) * (2.0 / h) - 1.0
    grid = torch.stack([gx, gy], dim=3)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)


class IFBlock(nn.Module):
    """One scale: downsample by `scale`, two stride-2 convs, a residual body,
    a transposed conv back up; returns (flow delta, mask delta) at full size."""

    def __init__(self, cin: int, c: int, depth: int = 4):
        super().__init__()
        self.head = nn.Sequential(conv(cin, c // 2, 2), conv(c // 2, c, 2))
        self.body = nn.Sequential(*[conv(c, c) for _ in range(depth)])
        self.tail = nn.ConvTranspose2d(c, 5, 4, 2, 1)

    def forward(self, x: torch.Tensor, scale: int):
        if scale != 1:
            x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        f = self.head(x)
        f = self.body(f) + f
        out = self.tail(f)
        out = F.interpolate(out, scale_factor=2.0 * scale, mode="bilinear", align_corners=False)
        return out[:, :4] * (2.0 * scale), out[:, 4:5]


class IFNetLite(nn.Module):
    SCALES = (4, 2, 1)

    def __init__(self, widths=(64, 48, 32)):
        super().__init__()
        self.blocks = nn.ModuleList(
            [IFBlock(7, widths[0])] + [IFBlock(7 + 6 + 4 + 1, c) for c in widths[1:]]
        )

    def forward(self, x: torch.Tensor, all_outputs: bool = False):
        img0, img1, t = x[:, 0:3], x[:, 3:6], x[:, 6:7]
        flow = mask = None
        outs = []
        for block, scale in zip(self.blocks, self.SCALES):
            if flow is None:
                flow, mask = block(x, scale)
            else:
                w0 = warp(img0, flow[:, 0:2])
                w1 = warp(img1, flow[:, 2:4])
                # Flow is scaled down with the image inside the block's
                # resize, so it is passed in units of 1/16 of a crop.
                inp = torch.cat([img0, img1, t, w0, w1, flow * (1.0 / 16.0), mask], 1)
                dflow, dmask = block(inp, scale)
                flow = flow + dflow
                mask = mask + dmask
            if all_outputs:
                outs.append(self.merge(img0, img1, flow, mask))
        if all_outputs:
            return outs
        return self.merge(img0, img1, flow, mask)

    @staticmethod
    def merge(img0, img1, flow, mask):
        m = torch.sigmoid(mask)
        return warp(img0, flow[:, 0:2]) * m + warp(img1, flow[:, 2:4]) * (1.0 - m)


# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------

def load_photos(names: list[str]) -> torch.Tensor:
    """Photos as [P, 3, S, S] float 0..1 (resized to S x S; grey replicated)."""
    import skimage.data
    from skimage.transform import resize

    out = []
    for name in names:
        im = np.asarray(getattr(skimage.data, name)()).astype(np.float32)
        if im.max() > 1.5:
            im /= 255.0
        if im.ndim == 2:
            im = np.stack([im] * 3, -1)
        im = im[..., :3]
        im = resize(im, (PHOTO_SIZE, PHOTO_SIZE), anti_aliasing=True).astype(np.float32)
        out.append(torch.from_numpy(im).permute(2, 0, 1))
    return torch.stack(out)


def affine_grid(centre, angle, scale, size):
    """Sampling grid (align_corners=False coords) of an S x S output whose pixel
    (u, v) around the crop centre reads the photo at centre + R(angle)*scale*(u, v).
    centre [N,2] in photo pixels, angle/scale [N]."""
    n = centre.shape[0]
    r = (torch.arange(size, dtype=torch.float32) + 0.5 - size / 2.0)
    v, u = torch.meshgrid(r, r, indexing="ij")
    c, s = torch.cos(angle).view(n, 1, 1), torch.sin(angle).view(n, 1, 1)
    k = scale.view(n, 1, 1)
    px = centre[:, 0].view(n, 1, 1) + k * (c * u - s * v)
    py = centre[:, 1].view(n, 1, 1) + k * (s * u + c * v)
    return torch.stack([px * (2.0 / PHOTO_SIZE) - 1.0, py * (2.0 / PHOTO_SIZE) - 1.0], -1)


def make_batch(photos: torch.Tensor, n: int, gen: torch.Generator, t_fixed: float | None = None,
               size: int = CROP):
    """n triplets: returns (input [n,7,S,S], target [n,3,S,S])."""
    P = photos.shape[0]

    def rand(*shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=gen)

    if t_fixed is None:
        t = torch.where(rand(n) < 0.5, torch.full((n,), 0.5), rand(n, lo=0.05, hi=0.95))
    else:
        t = torch.full((n,), float(t_fixed))
    times = [torch.zeros(n), t, torch.ones(n)]

    # Background: a camera moving with constant velocity, rotating and zooming.
    bg = torch.randint(0, P, (n,), generator=gen)
    margin = size * 0.8 + MAX_MOTION
    c0 = rand(n, 2, lo=margin, hi=PHOTO_SIZE - margin)
    mag = rand(n) ** 1.5 * MAX_MOTION * 0.7
    ang = rand(n, lo=0, hi=2 * math.pi)
    d = torch.stack([mag * torch.cos(ang), mag * torch.sin(ang)], 1)
    a0, da = rand(n, lo=-0.3, hi=0.3), rand(n, lo=-0.06, hi=0.06)
    s0, ds = rand(n, lo=0.7, hi=1.3), rand(n, lo=-0.06, hi=0.06)
    gain0, dgain = rand(n, lo=0.8, hi=1.1), rand(n, lo=-0.12, hi=0.12)
    flip = rand(n) < 0.5
    perm = torch.stack([torch.randperm(3, generator=gen) for _ in range(n)])

    # Sprites: up to three ellipses cut from other photos, each moving on its own.
    ns = 3
    sp_on = rand(n, ns) < torch.tensor([0.9, 0.6, 0.3])
    sp_src = torch.randint(0, P, (n, ns), generator=gen)
    sp_p0 = rand(n, ns, 2, lo=0.1 * size, hi=0.9 * size)
    sp_mag = rand(n, ns) * MAX_MOTION
    sp_ang = rand(n, ns, lo=0, hi=2 * math.pi)
    sp_d = torch.stack([sp_mag * torch.cos(sp_ang), sp_mag * torch.sin(sp_ang)], 2)
    sp_axes = rand(n, ns, 2, lo=0.08 * size, hi=0.3 * size)
    sp_rot0, sp_drot = rand(n, ns, lo=-math.pi, hi=math.pi), rand(n, ns, lo=-0.25, hi=0.25)
    sp_tex = rand(n, ns, 2, lo=size * 0.5, hi=PHOTO_SIZE - size * 0.5)

    r = torch.arange(size, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    frames = []
    for tau in times:
        centre = c0 + d * tau.view(n, 1)
        grid = affine_grid(centre, a0 + da * tau, s0 + ds * tau, size)
        img = F.grid_sample(photos[bg], grid, mode="bilinear", padding_mode="reflection",
                            align_corners=False)
        for k in range(ns):
            pos = sp_p0[:, k] + sp_d[:, k] * tau.view(n, 1)
            rot = sp_rot0[:, k] + sp_drot[:, k] * tau
            c, s = torch.cos(rot).view(n, 1, 1), torch.sin(rot).view(n, 1, 1)
            dx = xx.view(1, size, size) - pos[:, 0].view(n, 1, 1)
            dy = yy.view(1, size, size) - pos[:, 1].view(n, 1, 1)
            lu = c * dx + s * dy  # sprite-local coordinates
            lv = -s * dx + c * dy
            ax, ay = sp_axes[:, k, 0].view(n, 1, 1), sp_axes[:, k, 1].view(n, 1, 1)
            rad = torch.sqrt((lu / ax) ** 2 + (lv / ay) ** 2)
            alpha = ((1.0 - rad) * torch.minimum(ax, ay) + 0.5).clamp(0, 1)
            alpha = alpha * sp_on[:, k].view(n, 1, 1)
            tx = sp_tex[:, k, 0].view(n, 1, 1) + lu
            ty = sp_tex[:, k, 1].view(n, 1, 1) + lv
            tgrid = torch.stack([tx * (2.0 / PHOTO_SIZE) - 1, ty * (2.0 / PHOTO_SIZE) - 1], -1)
            tex = F.grid_sample(photos[sp_src[:, k]], tgrid, mode="bilinear",
                                padding_mode="reflection", align_corners=False)
            img = img * (1 - alpha.unsqueeze(1)) + tex * alpha.unsqueeze(1)
        img = img * (gain0 + dgain * tau).view(n, 1, 1, 1)
        img = torch.where(flip.view(n, 1, 1, 1), img.flip(3), img)
        img = torch.gather(img, 1, perm.view(n, 3, 1, 1).expand(-1, -1, size, size))
        frames.append(img.clamp(0, 1))
    tplane = t.view(n, 1, 1, 1).expand(n, 1, size, size)
    return torch.cat([frames[0], frames[2], tplane], 1), frames[1]


def validation_set(n: int = 48, size: int = 128):
    """The fixed validation triplets: held-out photos, a fixed seed; half at
    t = 0.5, half at random t."""
    gen = torch.Generator().manual_seed(SEED + 1)
    photos = load_photos(VAL_PHOTOS)
    xa, ya = make_batch(photos, n // 2, gen, t_fixed=0.5, size=size)
    xb, yb = make_batch(photos, n - n // 2, gen, size=size)
    return torch.cat([xa, xb]), torch.cat([ya, yb])


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (peak 1)."""
    mse = ((a - b) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return -10.0 * torch.log10(mse)


# --------------------------------------------------------------------------
# Training, export
# --------------------------------------------------------------------------

def seed_everything():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    # One thread: on a small shared machine two threads spin-wait on each
    # other and ran ~5x slower than one (measured here, 2 cores, loaded).
    torch.set_num_threads(int(os.environ.get("MORPH_TRAIN_THREADS", "1")))
    torch.use_deterministic_algorithms(True)


def train(iters: int, batch: int, log_path: Path, max_minutes: float,
          replay: list[float] | None = None) -> IFNetLite:
    """AdamW with a cosine learning rate. The schedule's progress is
    max(iteration / iters, elapsed / max_minutes), so a run on a slow, shared
    machine still anneals and stops within the time cap. The learning rate of
    every iteration is written to `<log>.lr`; `replay` (that list, from
    --replay-lr) re-runs exactly those iterations with exactly those rates,
    so a time-capped run reproduces bit for bit (same torch, same threads)."""
    seed_everything()
    photos = load_photos(TRAIN_PHOTOS)
    gen = torch.Generator().manual_seed(SEED)
    model = IFNetLite()
    params = sum(p.numel() for p in model.parameters())
    print(f"IFNetLite: {params} parameters", flush=True)
    lr_max, warmup = 1e-3, 100
    opt = torch.optim.AdamW(model.parameters(), lr=lr_max, weight_decay=1e-4)
    xv, yv = validation_set(16)
    start = time.time()
    with open(log_path, "w") as log:
        log.write("iter,seconds,loss,val_psnr\n")
        it = 0
        lrs = []
        while True:
            it += 1
            if replay is not None:
                if it > len(replay):
                    it -= 1
                    break
                lr = replay[it - 1]
            else:
                progress = max(it / iters, (time.time() - start) / (60.0 * max_minutes))
                if progress > 1.0:
                    it -= 1
                    break
                lr = lr_max * min(1.0, it / warmup) * 0.5 * (1.0 + math.cos(math.pi * progress))
            lrs.append(lr)
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = make_batch(photos, batch, gen)
            outs = model(x, all_outputs=True)
            # Charbonnier on the final output, lighter weights on the coarser
            # scales' outputs (deep supervision, as in RIFE).
            loss = 0.0
            for w, o in zip((0.25, 0.5, 1.0), outs):
                loss = loss + w * torch.sqrt((o - y) ** 2 + 1e-6).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % 100 == 0:
                with torch.no_grad():
                    vp = psnr(model(xv), yv).mean().item()
                line = f"{it},{time.time() - start:.1f},{loss.item():.5f},{vp:.3f}"
                log.write(line + "\n")
                log.flush()
                print(line, flush=True)
        log.write(f"# stopped after {it} iterations, {time.time() - start:.0f} s "
                  f"({'iteration count' if it >= iters else 'time cap'} reached)\n")
    log_path.with_suffix(".lr").write_text("".join(f"{v!r}\n" for v in lrs))
    print(f"stopped after {it} iterations, {time.time() - start:.0f} s", flush=True)
    return model


def export(model: IFNetLite, path: Path, half: bool = False):
    """ONNX export, opset 17, dynamic batch/height/width. `half` exports an
    fp16 copy (fp16 weights, activations, input and output)."""
    import copy

    model = copy.deepcopy(model).eval()
    dummy = torch.rand(1, 7, 64, 96)
    if half:
        model, dummy = model.half(), dummy.half()
    torch.onnx.export(
        model, (dummy,), str(path), input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"},
                      "output": {0: "batch", 2: "height", 3: "width"}},
        opset_version=17, dynamo=False,
    )
    import onnx
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    return m


def write_sidecar(path: Path, name: str, type_: str):
    sidecar = {
        "Name": name,
        "Description": "morph IFNet-lite frame interpolation (RIFE-style interface)",
        "Inputs": [{"Name": "input", "Type": type_, "Channels": ["img0.R", "img0.G", "img0.B",
                                                                 "img1.R", "img1.G", "img1.B",
                                                                 "timestep"]}],
        "Outputs": [{"Name": "output", "Type": type_, "Channels": ["R", "G", "B"]}],
        "Padding": 32,
        "SupportsSceneLinear": False,
        "MaxMotion": MAX_MOTION,
    }
    path.write_text(json.dumps(sidecar, indent=2) + "\n")


def write_wrong_model(path: Path):
    """A tiny model with the wrong interface (4 input channels, 1 output
    channel), for morph-ml's error test. Built with onnx.helper: one Conv."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.full((1, 4, 1, 1), 0.25, np.float32), "w")
    node = helper.make_node("Conv", ["input", "w"], ["output"])
    graph = helper.make_graph(
        [node], "wrong_interface",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 4, "h", "w"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", 1, "h", "w"])],
        [w],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def evaluate(onnx_path: Path, fp16: bool = False):
    """PSNR of the exported model (through ONNX Runtime) vs a plain blend on
    the validation triplets."""
    import onnxruntime as ort

    xv, yv = validation_set()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    dtype = np.float16 if fp16 else np.float32
    out = sess.run(None, {"input": xv.numpy().astype(dtype)})[0].astype(np.float32)
    out = torch.from_numpy(out)
    t = xv[:, 6:7]
    blend = xv[:, 0:3] * (1 - t) + xv[:, 3:6] * t
    return psnr(out, yv), psnr(blend, yv)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-minutes", type=float, default=20.0,
                    help="wall-time cap for training (the schedule anneals within it)")
    ap.add_argument("--replay-lr", type=Path,
                    help="re-run a logged schedule exactly (models/train_log.lr)")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--wrong-model", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    wrong = HERE.parent / "crates" / "morph-ml" / "tests" / "data" / "wrong_interface.onnx"
    wrong.parent.mkdir(parents=True, exist_ok=True)
    write_wrong_model(wrong)
    if args.wrong_model:
        return
    ckpt = out / f"{MODEL_NAME}.pt"
    if args.export_only:
        seed_everything()
        model = IFNetLite()
        model.load_state_dict(torch.load(ckpt))
    else:
        replay = None
        if args.replay_lr:
            replay = [float(v) for v in args.replay_lr.read_text().split()]
        model = train(args.iters, args.batch, out / "train_log.csv", args.max_minutes, replay)
        torch.save(model.state_dict(), ckpt)
    f32 = out / f"{MODEL_NAME}.onnx"
    f16 = out / f"{MODEL_NAME}_fp16.onnx"
    export(model, f32)
    export(model, f16, half=True)
    write_sidecar(out / f"{MODEL_NAME}.json", MODEL_NAME, "float32")
    write_sidecar(out / f"{MODEL_NAME}_fp16.json", MODEL_NAME + "_fp16", "float16")
    for path, half in ((f32, False), (f16, True)):
        m, b = evaluate(path, half)
        print(f"{path.name}: validation PSNR model {m.mean():.2f} dB, plain blend {b.mean():.2f} dB "
              f"(t=0.5: {m[:24].mean():.2f} vs {b[:24].mean():.2f})")


if __name__ == "__main__":
    sys.exit(main())
