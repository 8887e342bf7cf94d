//! The common case made fast: Front RGBA only (no Matte, no extra channels)
//! with the Nearest, Linear and cubic filters.
//!
//! The same pixels as [`super::shade`], bit for bit, computed in two passes
//! over each tile row (≤ [`SEG`] pixels):
//!
//! 1. **cells**: for every pixel, the Front position from (s, t), its
//!    snapped texel cell and whether the whole tap footprint lies inside the
//!    Front (and the position is valid) — a loop with no branches and no
//!    memory reads but the STMap row, which LLVM vectorises at SSE2;
//! 2. **gather**: the taps of every inside pixel, read straight from the
//!    Front with the weights of [`super::filters`] (no repeat-mode logic, no
//!    per-tap branches), so many source cache misses are in flight at once;
//!    every other pixel (near an edge, outside, NaN) goes through
//!    [`super::shade`] unchanged.
//!
//! The arithmetic is that of `shade` in the same order (the framing's
//! `s · scale + origin`, [`snap_cell`], the filters' `bilinear4` / `cubic4`
//! through [`RgbaAcc`]), so results are identical to the general path and
//! the GPU twin needs no change.

use super::filters::{Accum, CATMULL_ROM, Cubic, MITCHELL, RgbaAcc};
use super::framing::{MAX_POSITION, floor_i32, snap_cell};
use super::{CATMULL_ROM_FILTER, Ctx, LINEAR, MITCHELL_NETRAVALI, NEAREST, TILE_COLS, shade};

/// Pixels per pass: one tile row.
const SEG: usize = TILE_COLS;

/// Whether filter `F` has a fast path here.
pub(super) const fn has_fast_path(f: u8) -> bool {
    matches!(
        f,
        NEAREST | LINEAR | MITCHELL_NETRAVALI | CATMULL_ROM_FILTER
    )
}

/// The first pass's results for one tile row.
struct Cells {
    /// Texel column: `⌊u⌋` (Nearest) or the snapped cell's `i`.
    i: [i32; SEG],
    /// Texel row.
    j: [i32; SEG],
    /// Snapped fraction on x (unused by Nearest).
    fx: [f32; SEG],
    /// Snapped fraction on y.
    fy: [f32; SEG],
    /// The position is valid and every tap lies inside the Front.
    inside: [bool; SEG],
}

/// First pass: cells for the STMap samples `st` (≤ [`SEG`]). The footprint
/// of a cell `i` spans texels `i − lo ..= i + hi`.
#[inline(always)]
fn cells<const F: u8>(ctx: &Ctx<'_>, st: &[[f32; 4]]) -> Cells {
    let (lo, hi) = match F {
        NEAREST => (0, 0),
        LINEAR => (0, 1),
        _ => (1, 2),
    };
    let fr = ctx.framing;
    let (w, h) = (ctx.src.w, ctx.src.h);
    let mut c = Cells {
        i: [0; SEG],
        j: [0; SEG],
        fx: [0.0; SEG],
        fy: [0.0; SEG],
        inside: [false; SEG],
    };
    let n = st.len().min(SEG);
    for k in 0..n {
        let [s, t, _, _] = st[k];
        // StMapFraming::position, without the Option.
        let u = s * fr.scale_x + fr.origin_x;
        let v = t * fr.scale_y + fr.origin_y;
        let valid = (u.abs() < MAX_POSITION) & (v.abs() < MAX_POSITION);
        let (i, j, fx, fy) = if F == NEAREST {
            (floor_i32(u), floor_i32(v), 0.0, 0.0)
        } else {
            let (cx, cy) = (snap_cell(u, fr.snap_x), snap_cell(v, fr.snap_y));
            (cx.i, cy.i, cx.f, cy.f)
        };
        c.i[k] = i;
        c.j[k] = j;
        c.fx[k] = fx;
        c.fy[k] = fy;
        // Invalid positions give garbage cells (floor_i32 of NaN is
        // harmless), masked here.
        c.inside[k] = valid & (i >= lo) & (j >= lo) & (i + hi < w) & (j + hi < h);
    }
    c
}

/// One pixel through the general path.
#[inline(never)]
fn general<const F: u8>(ctx: &Ctx<'_>, x: usize, y: usize) -> [f32; 4] {
    let mut acc = RgbaAcc([0.0; 4]);
    shade::<F, _>(ctx, x, y, &mut acc);
    acc.0
}

/// Shades one tile row: output pixels `x0 .. x0 + out.len()` of row `y`,
/// whose STMap samples are `st`.
#[inline(always)]
pub(super) fn tile_row<const F: u8>(
    ctx: &Ctx<'_>,
    st: &[[f32; 4]],
    out: &mut [[f32; 4]],
    x0: usize,
    y: usize,
) {
    debug_assert!(st.len() == out.len() && out.len() <= SEG);
    let c = cells::<F>(ctx, st);
    let src = ctx.src;
    let w = src.w as usize;
    let kernel: &Cubic = if F == MITCHELL_NETRAVALI {
        &MITCHELL
    } else {
        &CATMULL_ROM
    };
    for (k, o) in out.iter_mut().enumerate().take(SEG) {
        if !c.inside[k] {
            *o = general::<F>(ctx, x0 + k, y);
            continue;
        }
        let (i, j) = (c.i[k] as usize, c.j[k] as usize);
        let mut acc = RgbaAcc([0.0; 4]);
        match F {
            NEAREST => acc.add(src, j * w + i, 1.0),
            LINEAR => acc.add_bilinear(src, j * w + i, w, [c.fx[k], c.fy[k]], 1.0),
            _ => acc.add_cubic(
                src,
                (j - 1) * w + (i - 1),
                w,
                kernel.weights(c.fx[k]),
                kernel.weights(c.fy[k]),
            ),
        }
        *o = acc.0;
    }
}
