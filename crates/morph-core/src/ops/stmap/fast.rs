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
//!    per-tap branches, one bounds check per pixel): a short loop;
//!    a pixel whose taps all fall outside on an axis with Repeat Off, or
//!    whose position is NaN / out of range, is transparent black (what the
//!    general path gives it: no tap adds anything); every other pixel (near
//!    an edge) goes through [`super::shade`] unchanged.
//!
//! The arithmetic is that of `shade` in the same order (the framing's
//! `s · scale + origin`, [`snap_cell`], the filters' `bilinear4` / `cubic4`
//! summed as [`RgbaAcc`] sums them), so results are identical to the general
//! path (`fast_path_matches_the_general_path_bit_for_bit`) and the GPU twin
//! needs no change.

use rayon::prelude::*;

use crate::params::RepeatMode;

use super::filters::{CATMULL_ROM, Cubic, MITCHELL, RgbaAcc, add4, axpy, bilinear4, cubic4};
use super::framing::{MAX_POSITION, floor_i32, snap_cell};
use super::{
    BAND_ROWS, CATMULL_ROM_FILTER, Ctx, LINEAR, MITCHELL_NETRAVALI, NEAREST, TILE_COLS, shade,
    zeroed,
};

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
    /// Index in the Front of the footprint's top-left texel (only meaningful
    /// for [`INSIDE`] pixels): `⌊v⌋·W + ⌊u⌋` for Nearest, the snapped cell's
    /// `j·W + i` for Linear, `(j−1)·W + i−1` for the cubics.
    idx: [i32; SEG],
    /// Snapped fraction on x (unused by Nearest).
    fx: [f32; SEG],
    /// Snapped fraction on y.
    fy: [f32; SEG],
    /// What the second pass does with the pixel: [`INSIDE`], [`ZERO`] or
    /// [`GENERAL`].
    kind: [u8; SEG],
}

/// Through the general path (near an edge, with a repeat mode that reads
/// texels there).
const GENERAL: u8 = 0;
/// The position is valid and every tap lies inside the Front.
const INSIDE: u8 = 1;
/// Transparent black: the position is NaN / out of range, or every tap lies
/// outside the Front on an axis whose repeat mode is Off.
const ZERO: u8 = 2;

impl Cells {
    /// A buffer for [`cells`], reused for every tile row of a band (filling
    /// five arrays per tile row would cost a `memset` each time).
    fn new() -> Cells {
        Cells {
            idx: [0; SEG],
            fx: [0.0; SEG],
            fy: [0.0; SEG],
            kind: [GENERAL; SEG],
        }
    }
}

/// First pass: cells for the STMap samples `st` (≤ [`SEG`]) into the first
/// `st.len()` entries of `c`. The footprint of a cell `i` spans texels
/// `i − lo ..= i + hi`.
#[inline(always)]
fn cells<const F: u8>(ctx: &Ctx<'_>, st: &[[f32; 4]], c: &mut Cells) {
    let (lo, hi) = match F {
        NEAREST => (0, 0),
        LINEAR => (0, 1),
        _ => (1, 2),
    };
    let fr = ctx.framing;
    let (w, h) = (ctx.src.w, ctx.src.h);
    let off_x = ctx.src.repeat_x == RepeatMode::Off;
    let off_y = ctx.src.repeat_y == RepeatMode::Off;
    for (k, &[s, t, _, _]) in st.iter().enumerate().take(SEG) {
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
        // Below 2²⁸ texels (the image limit) for inside pixels; wrapping
        // garbage, never used, for the others.
        c.idx[k] = (j - lo).wrapping_mul(w).wrapping_add(i - lo);
        c.fx[k] = fx;
        c.fy[k] = fy;
        // Invalid positions give garbage cells (floor_i32 of NaN is
        // harmless), masked here.
        let inside = valid & (i >= lo) & (j >= lo) & (i + hi < w) & (j + hi < h);
        let out_x = off_x & ((i + hi < 0) | (i - lo >= w));
        let out_y = off_y & ((j + hi < 0) | (j - lo >= h));
        let zero = !valid | out_x | out_y;
        // inside and zero exclude each other.
        c.kind[k] = inside as u8 | (zero as u8) << 1;
    }
}

/// One pixel through the general path.
#[inline(never)]
fn general<const F: u8>(ctx: &Ctx<'_>, x: usize, y: usize) -> [f32; 4] {
    let mut acc = RgbaAcc([0.0; 4]);
    shade::<F, _>(ctx, x, y, &mut acc);
    acc.0
}

/// Shades one tile row: output pixels `x0 .. x0 + out.len()` of row `y`,
/// whose STMap samples are `st`, with `c` as the first pass's buffer.
#[inline(always)]
fn tile_row<const F: u8>(
    ctx: &Ctx<'_>,
    st: &[[f32; 4]],
    out: &mut [[f32; 4]],
    x0: usize,
    y: usize,
    c: &mut Cells,
) {
    debug_assert!(st.len() == out.len() && out.len() <= SEG);
    cells::<F>(ctx, st, c);
    let src = ctx.src;
    let rgba = src.rgba;
    let w = src.w as usize;
    let kernel: &Cubic = if F == MITCHELL_NETRAVALI {
        &MITCHELL
    } else {
        &CATMULL_ROM
    };
    // The taps' span from the footprint's first texel.
    let span = match F {
        NEAREST => 1,
        LINEAR => w + 2,
        _ => 3 * w + 4,
    };
    for (k, o) in out.iter_mut().enumerate().take(SEG) {
        let taps = match c.kind[k] {
            INSIDE => {
                let idx = c.idx[k] as usize;
                rgba.get(idx..idx + span)
            }
            ZERO => {
                *o = [0.0; 4];
                continue;
            }
            _ => None,
        };
        // Always there for an inside pixel; the general path otherwise.
        let Some(q) = taps else {
            *o = general::<F>(ctx, x0 + k, y);
            continue;
        };
        // RgbaAcc's arithmetic on the sub-slice (the footprint starts at
        // its index 0): `0 + 1·p` or `0 + cubic`, as the general path.
        let mut acc = [0.0; 4];
        match F {
            NEAREST => axpy(&mut acc, 1.0, q[0]),
            LINEAR => axpy(&mut acc, 1.0, bilinear4(q, 0, w, [c.fx[k], c.fy[k]])),
            _ => add4(
                &mut acc,
                cubic4(q, 0, w, kernel.weights(c.fx[k]), kernel.weights(c.fy[k])),
            ),
        }
        *o = acc;
    }
}

/// Every output pixel of the RGBA-only case: bands of [`BAND_ROWS`] rows
/// in parallel, tiles of [`TILE_COLS`] columns within a band (for the
/// Front's cache), [`tile_row`] on each tile row.
pub(super) fn render<const F: u8>(ctx: &Ctx<'_>) -> Vec<[f32; 4]> {
    let (w, h) = (ctx.foot.width, ctx.foot.height);
    let map = ctx.foot.map;
    let mut rgba = zeroed(w * h);
    rgba.par_chunks_mut(w * BAND_ROWS)
        .enumerate()
        .for_each(|(b, out)| {
            let y0 = b * BAND_ROWS;
            let mut cells = Cells::new();
            for x0 in (0..w).step_by(TILE_COLS) {
                let x1 = (x0 + TILE_COLS).min(w);
                for (r, row) in out.chunks_exact_mut(w).enumerate() {
                    let y = y0 + r;
                    for xs in (x0..x1).step_by(SEG) {
                        let xe = (xs + SEG).min(x1);
                        let st = &map[y * w + xs..y * w + xe];
                        tile_row::<F>(ctx, st, &mut row[xs..xe], xs, y, &mut cells);
                    }
                }
            }
        });
    rgba
}
