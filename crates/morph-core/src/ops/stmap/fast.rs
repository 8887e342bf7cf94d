//! The common case made fast: Front RGBA only (no Matte, no extra channels)
//! with the Nearest, Linear and cubic filters.
//!
//! The same pixels as [`super::shade`], bit for bit, computed per band of
//! [`BAND_ROWS`] rows (bands in parallel) in two passes:
//!
//! 1. **cells**, row by row: for every pixel, the Front position from
//!    (s, t), its snapped texel cell and whether the whole tap footprint
//!    lies inside the Front (and the position is valid), into a [`Taps`] —
//!    a loop with no branches that reads nothing but the STMap, in memory
//!    order;
//! 2. **gather**, tile by tile ([`TILE_COLS`] columns, so the Front region
//!    a tile reads stays in cache; down one tile and up the next, so a tile
//!    starts where its neighbour's texels are still cached): the taps of
//!    every inside pixel, read
//!    straight from the Front with the weights of [`super::filters`] (no
//!    repeat-mode logic, no per-tap branches, one bounds check per pixel);
//!    a pixel whose taps all fall outside on an axis with Repeat Off, or
//!    whose position is NaN / out of range, is transparent black (what the
//!    general path gives it: no tap adds anything); every other pixel (near
//!    an edge) goes through [`super::shade`] unchanged.
//!
//! Why two passes: streaming the STMap (and writing the output) in 32-pixel
//! pieces of 32 rows costs about three times what it costs in memory order
//! on the dev VM (a 1080p read-and-write: 10 ms tiled, 3 ms in rows), while
//! the Front's taps want the tiles; the band's cells (12 bytes a pixel)
//! bridge the two orders. Measured on the dev VM at 1 thread, 1080p: linear
//! 19.6 → 18.8–19.2 ms, cubic 36.6 → 34.2–34.4 ms against cells per tile
//! row; the serpentine tile order then 18.4–18.5 → 16.1–17.0 ms (linear),
//! 33.5–34.0 → 31.6–32.2 ms (cubic).
//!
//! Where the time goes (dev VM, 1 thread, 1080p linear, 16.5 ms in all):
//! the output's zero-fill and the first pass (STMap read, cells) 6.8 ms;
//! the second pass with no Front read (an all-NaN STMap: cells read, zeros
//! written tile by tile) 4.0 ms more; the Front's taps the other 5.7 ms —
//! on a rotated map every tile row reaches new Front rows, 30 KB apart.
//! Tried and measured no faster: other tile shapes (16–512 columns, 1–128
//! rows), touching the next rows' texels ahead of time, both passes over a
//! whole tile, writing results into the band buffer and copying it out,
//! collecting the output through rayon to skip the zero-fill, huge pages,
//! an `x86-64-v3` build, reversing the tile order of every other band,
//! collecting the cells straight into the output (no zero-fill, no cells
//! buffer) and shading them in place.
//!
//! Measured again on 2026-11-23 (dev VM, 1 thread, 1080p, in-process
//! timers): the zero-fill alone is 1.3 ms and the first pass 4.0–5.6 ms
//! (≈ 2.4 ns a pixel: compute, the map alone streams at ~25 GB/s); with the
//! Front's reads replaced by a constant the second pass still costs ~6 ms,
//! so the reads themselves are ~3 ms. Tried that day, none faster: one pass
//! in memory order collected straight into the output (no zero-fill, no
//! cells buffer: 1.4× slower for linear, 1.7× for nearest — the Front's
//! locality matters more); both passes per block of 32 rows × 64, 128 or
//! 256 columns (1.2–1.3× slower); reading each band's output ahead of the
//! gather, or zeroing it there (no change); the cells as a structure of
//! arrays filled 8 pixels at a time (1.8× slower). Cells computed once for a
//! static map (what a prepared STMap for a sequence would keep): 17.2 →
//! 13.2 ms on 1 thread, 8.8 → 7.9 ms on 2 — still not below OpenCV's
//! INTER_LINEAR (10.4–12.4 / 6.6–7.4 ms), which also reads half the map
//! bytes (two f32 planes, not RGBA).
//!
//! A [`super::PreparedStMap`] (a static STMap over a sequence) runs the
//! first pass once over the whole map ([`prepare`]) and per frame only the
//! second ([`render_prepared`]), into a recycled frame. The taps are stored
//! in the order the second pass reads them ([`tile_rows`]): read row-major
//! a tile row at a time they stalled the gather like the tiled map reads
//! above (a prepared linear frame 12.4 → 9.9 ms at 1 thread). Dev VM,
//! 1080p, 1 / 2 threads, min of 21 runs: a frame of a sequence, linear
//! 9.1–9.4 / 4.8–5.2 ms, Catmull-Rom 24.9–25.4 / 12.6–12.7 ms, nearest
//! (its gather in memory order) 5.4–6.0 / 4.0–4.2 ms; one `stmap()` call
//! 16.0–16.1 / 8.7–8.9, 32.2–32.6 / 17.0–17.2 and 11.2–12.1 / 6.9–7.8 ms.
//!
//! Measured on 2026-11-23 (in-process timers, 1 thread, one `stmap()` call,
//! linear): first pass 6.8 ms, second 9.0 ms, zero-fill 1.4 ms. Tried that
//! day, none faster: cells as (i, j) with the inside test moved to the
//! second pass (first pass 6.8 → 6.3 ms, second 9.0 → 10.4: the gather
//! waits on the Front, and more instructions a pixel keep fewer of its loads
//! in flight); the first pass of the next band interleaved 8 pixels at a
//! time with the gather (to overlap arithmetic with the gather's misses:
//! 1.2× slower than both passes apart); Nearest's taps and gather row by row
//! (the taps in L1: 14 → 17 ms).
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

/// Whether filter `F` has a fast path here.
pub(super) const fn has_fast_path(f: u8) -> bool {
    matches!(
        f,
        NEAREST | LINEAR | MITCHELL_NETRAVALI | CATMULL_ROM_FILTER
    )
}

/// The first pass's result for one pixel: 12 bytes, what the pixel is folded
/// into a negative index (16 bytes with a separate kind field: a prepared
/// 1080p linear frame 9.9 → 9.5 ms, a one-off call 17.5 → 17.0 ms, within
/// the dev VM's noise but on that side in every run; a quarter less memory).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Taps {
    /// Index in the Front of the footprint's top-left texel when every tap
    /// lies inside the Front: `⌊v⌋·W + ⌊u⌋` for Nearest, the snapped cell's
    /// `j·W + i` for Linear, `(j−1)·W + i−1` for the cubics; else [`ZERO`]
    /// or [`GENERAL`].
    idx: i32,
    /// Snapped fraction on x (unused by Nearest).
    fx: f32,
    /// Snapped fraction on y.
    fy: f32,
}

/// `Taps::idx` of a transparent black pixel: the position is NaN / out of
/// range, or every tap lies outside the Front on an axis whose repeat mode
/// is Off.
const ZERO: i32 = -1;
/// `Taps::idx` of a pixel for the general path (near an edge, with a repeat
/// mode that reads texels there).
const GENERAL: i32 = -2;

/// First pass: the cells of the STMap samples `st` into `out` (the same
/// length). The footprint of a cell `i` spans texels `i − lo ..= i + hi`.
/// Garbage cells of invalid positions stay far inside i32 (|⌊x⌋| < 1.3·10⁹
/// for any f32 through `floor_i32`), so `i ± 2` cannot overflow.
#[inline(always)]
fn cells<const F: u8>(ctx: &Ctx<'_>, st: &[[f32; 4]], out: &mut [Taps]) {
    let (lo, hi) = match F {
        NEAREST => (0, 0),
        LINEAR => (0, 1),
        _ => (1, 2),
    };
    let fr = ctx.framing;
    let (w, h) = (ctx.src.w, ctx.src.h);
    let off_x = ctx.src.repeat_x == RepeatMode::Off;
    let off_y = ctx.src.repeat_y == RepeatMode::Off;
    for (c, &[s, t, _, _]) in out.iter_mut().zip(st) {
        // StMapFraming::position, without the Option.
        let u = s * fr.scale_x + fr.origin_x;
        let v = t * fr.scale_y + fr.origin_y;
        let valid = (u.abs() < MAX_POSITION) & (v.abs() < MAX_POSITION);
        let (i, j, cfx, cfy) = if F == NEAREST {
            (floor_i32(u), floor_i32(v), 0.0, 0.0)
        } else {
            let (cx, cy) = (snap_cell(u, fr.snap_x), snap_cell(v, fr.snap_y));
            (cx.i, cy.i, cx.f, cy.f)
        };
        // Below 2²⁸ texels (the image limit) for inside pixels; wrapping
        // garbage, never used, for the others.
        let idx = (j - lo).wrapping_mul(w).wrapping_add(i - lo);
        // Invalid positions give garbage cells (floor_i32 of NaN is
        // harmless), masked here.
        let inside = valid & (i >= lo) & (j >= lo) & (i + hi < w) & (j + hi < h);
        let out_x = off_x & ((i + hi < 0) | (i - lo >= w));
        let out_y = off_y & ((j + hi < 0) | (j - lo >= h));
        let zero = !valid | out_x | out_y;
        // inside and zero exclude each other.
        let idx = if inside {
            idx
        } else if zero {
            ZERO
        } else {
            GENERAL
        };
        *c = Taps {
            idx,
            fx: cfx,
            fy: cfy,
        };
    }
}

/// One pixel through the general path.
#[inline(never)]
fn general<const F: u8>(ctx: &Ctx<'_>, x: usize, y: usize) -> [f32; 4] {
    let mut acc = RgbaAcc([0.0; 4]);
    shade::<F, _>(ctx, x, y, &mut acc);
    acc.0
}

/// Second pass over one tile row: output pixels `out` (columns `x0..` of
/// row `y`) from their cells `c`.
#[inline(always)]
fn gather<const F: u8>(ctx: &Ctx<'_>, c: &[Taps], out: &mut [[f32; 4]], x0: usize, y: usize) {
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
    for (k, (o, c)) in out.iter_mut().zip(c).enumerate() {
        let taps = match c.idx {
            ZERO => {
                *o = [0.0; 4];
                continue;
            }
            GENERAL => None,
            i => rgba.get(i as usize..i as usize + span),
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
            LINEAR => axpy(&mut acc, 1.0, bilinear4(q, 0, w, [c.fx, c.fy])),
            _ => add4(
                &mut acc,
                cubic4(q, 0, w, kernel.weights(c.fx), kernel.weights(c.fy)),
            ),
        }
        *o = acc;
    }
}

/// Every output pixel of the RGBA-only case: bands of [`BAND_ROWS`] rows
/// in parallel; in a band, the first pass ([`band_taps`]: the STMap read in
/// memory order), then the second ([`gather_band`]).
pub(super) fn render<const F: u8>(ctx: &Ctx<'_>) -> Vec<[f32; 4]> {
    let (w, h) = (ctx.foot.width, ctx.foot.height);
    let mut rgba = zeroed(w * h);
    let rows = band_rows::<F>();
    let band = w * rows;
    rgba.par_chunks_mut(band).enumerate().for_each_init(
        || vec![Taps::default(); band.min(w * h)],
        |c, (b, out)| {
            let y0 = b * rows;
            let c = &mut c[..out.len()];
            band_taps::<F>(ctx, y0, c);
            gather_band::<F>(ctx, c, out, y0);
        },
    );
    rgba
}

/// The first pass over the whole STMap, once: what a [`super::PreparedStMap`]
/// keeps for a sequence (12 bytes a pixel), band by
/// band in [`gather_band`]'s order.
pub(super) fn prepare<const F: u8>(ctx: &Ctx<'_>) -> Vec<Taps> {
    let w = ctx.foot.width;
    let mut taps = zeroed(w * ctx.foot.height);
    if w > 0 {
        taps.par_chunks_mut(w * BAND_ROWS)
            .enumerate()
            .for_each(|(b, c)| band_taps::<F>(ctx, b * BAND_ROWS, c));
    }
    taps
}

/// The second pass alone, from prepared `taps` (the [`prepare`] of the same
/// context), into `out`: every pixel is written, so `out` may hold anything
/// (a recycled frame).
pub(super) fn render_prepared<const F: u8>(ctx: &Ctx<'_>, taps: &[Taps], out: &mut [[f32; 4]]) {
    let w = ctx.foot.width;
    let band = w * BAND_ROWS;
    out.par_chunks_mut(band)
        .zip(taps.par_chunks(band))
        .enumerate()
        .for_each(|(b, (out, c))| gather_band::<F>(ctx, c, out, b * BAND_ROWS));
}

/// Rows per band (per rayon task and first-pass buffer) of a one-off call
/// with filter `F`. Nearest walks whole rows, so its bands need not be tall,
/// and short ones keep the band's taps (written just before the gather reads
/// them) out of the Front's way in L2: 4 rows instead of [`BAND_ROWS`] took
/// one 1080p call from 14.5–16.8 to 11.7–12.5 ms on 1 thread and 11.1 to
/// 7.0 ms on 2 (dev VM, alternating runs). The other filters' tiles want
/// the rows; prepared taps stay in [`BAND_ROWS`] bands (no difference
/// measured there).
const fn band_rows<const F: u8>() -> usize {
    if F == NEAREST { 4 } else { BAND_ROWS }
}

/// Columns per tile of filter `F` in a `w`-wide band. Nearest reads one
/// texel a pixel: whole rows, in memory order, beat tiles there (a prepared
/// 1080p frame 13 → 5 ms on the dev VM).
const fn tile_cols<const F: u8>(w: usize) -> usize {
    if F == NEAREST { w } else { TILE_COLS }
}

/// The tiles of a band of `rows` rows, `w` wide, in the second pass's
/// order: `(x0, x1, r)` per tile row — tile by tile, down the even tiles
/// and up the odd ones (a tile starts beside the rows its neighbour ended
/// on, whose Front texels are still in cache). The band's taps are stored
/// in this order, so the second pass reads them as one stream.
#[inline(always)]
fn tile_rows<const F: u8>(w: usize, rows: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    let tile = tile_cols::<F>(w);
    (0..w).step_by(tile).enumerate().flat_map(move |(t, x0)| {
        let x1 = (x0 + tile).min(w);
        (0..rows).map(move |k| (x0, x1, serpentine(t, k, rows)))
    })
}

/// The `k`-th row visited in tile `t` of a band of `rows` rows: down the
/// even tiles, up the odd ones (its own inverse).
#[inline(always)]
fn serpentine(t: usize, k: usize, rows: usize) -> usize {
    if t % 2 == 1 { rows - 1 - k } else { k }
}

/// The first pass over the band of rows `y0..` (`c`: whole rows' worth),
/// row by row through the STMap, each tile row's taps stored where
/// [`tile_rows`] reads them.
#[inline(always)]
fn band_taps<const F: u8>(ctx: &Ctx<'_>, y0: usize, c: &mut [Taps]) {
    let w = ctx.foot.width;
    let rows = c.len() / w;
    let st = &ctx.foot.map[y0 * w..(y0 + rows) * w];
    let tile = tile_cols::<F>(w);
    for r in 0..rows {
        for (t, x0) in (0..w).step_by(tile).enumerate() {
            let x1 = (x0 + tile).min(w);
            // Tiles before this one hold x0 · rows taps; within it, row r
            // is visited k-th.
            let at = x0 * rows + serpentine(t, r, rows) * (x1 - x0);
            cells::<F>(ctx, &st[r * w + x0..r * w + x1], &mut c[at..at + x1 - x0]);
        }
    }
}

/// The second pass over one band (rows `y0..`, `out` whole rows, `c` its
/// taps in [`tile_rows`] order).
#[inline(always)]
fn gather_band<const F: u8>(ctx: &Ctx<'_>, c: &[Taps], out: &mut [[f32; 4]], y0: usize) {
    let w = ctx.foot.width;
    let rows = out.len() / w;
    let mut at = 0;
    for (x0, x1, r) in tile_rows::<F>(w, rows) {
        let n = x1 - x0;
        gather::<F>(
            ctx,
            &c[at..at + n],
            &mut out[r * w + x0..r * w + x1],
            x0,
            y0 + r,
        );
        at += n;
    }
}
