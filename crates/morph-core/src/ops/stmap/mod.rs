//! STMap (SPEC §3): warps the Front (and the Matte) by a map of normalised
//! source coordinates, one output pixel per STMap pixel.
//!
//! Twin of `shaders/stmap.wgsl` (one invocation per output pixel): `shade`
//! below is that invocation, run over bands of rows with rayon (tiled within a
//! band for cache reuse; the order changes nothing). Per output pixel
//! `(x, y)` (y counted top-down in memory):
//!
//! 1. read `s = R`, `t = G` of STMap pixel `(x, y)`; t counts from the bottom,
//!    so the identity map is `s = (x + ½)/M`, `t = (N − y − ½)/N`;
//! 2. turn them into a Front position `(u, v)` ([`framing`]: the framing mode,
//!    `offset_x/y`, snapping onto pixel centres within a few ulps so identity
//!    maps are exact); a NaN/infinite s or t, or a position beyond ±2²¹ px,
//!    gives **transparent black** in every channel (our rule: NaN is "no
//!    sample", whatever the repeat mode);
//! 3. for the anisotropic and EWA filters, the footprint: the STMap's
//!    Jacobian from finite differences with its four neighbours
//!    ([`footprint`]) — the only cross-pixel read;
//! 4. filter ([`filters`]) with the per-axis repeat modes, applying the same
//!    taps and weights to every channel: Front RGBA (alpha included), the
//!    Front's extra channels, and the Matte's channels (OutMatte).
//!
//! The output has the STMap's size, the Front's channel layout (base
//! channels, extra channel names and formats) and metadata, and the windows
//! the framing gives.
//!
//! The common case — Front RGBA only, Nearest, Linear or a cubic — runs
//! through the private `fast` module: the same arithmetic in two passes
//! per tile row (positions and cells for the whole row, vectorised; then
//! the taps of the pixels whose footprint lies inside the Front, with no
//! repeat-mode logic), giving the same pixels bit for bit (tested), so the
//! shader stays the twin of `shade`. A static STMap applied to a sequence
//! is prepared once ([`PreparedStMap`]): the first pass is kept, each frame
//! runs only the second.

mod fast;
pub mod filters;
pub mod footprint;
pub mod framing;
mod prepared;

#[cfg(any(test, feature = "test-support"))]
pub mod parity;
#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::error::Result;
use crate::image::{ExtraChannel, Image};
use crate::params::{StMapFilter, StMapParams};

pub use filters::{
    ANISO_MAX_PROBES, CATMULL_ROM, Cubic, EWA_ALPHA, EWA_CUTOFF, EWA_MAX_RADIUS, MITCHELL,
    ewa_edge_norm,
};
pub use footprint::{Jacobian, Singular};
pub use framing::{
    Cell, Geometry, MAX_POSITION, SNAP_RELATIVE, Snap, StMapFraming, floor_i32, snap_cell,
};

use filters::{Accum, FullAcc, RgbaAcc, Source};
use footprint::FootprintInput;

pub use prepared::PreparedStMap;

/// The STMap node's inputs.
#[derive(Clone, Copy, Debug)]
pub struct StMapInputs<'a> {
    /// The image to warp.
    pub front: &'a Image,
    /// The map: R = s, G = t (normalised, bottom-left origin); B and A unused.
    pub stmap: &'a Image,
    /// Optional matte, the Front's size, warped the same way.
    pub matte: Option<&'a Image>,
}

/// The STMap node's outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct StMapOutput {
    /// Result: the warped Front (all its channels), the STMap's size.
    pub result: Image,
    /// OutMatte: the warped Matte, when one was given.
    pub matte: Option<Image>,
}

/// Warps `inputs.front` (and the matte) through `inputs.stmap`.
///
/// # Errors
/// An invalid attribute ([`StMapParams::validate`], or an attribute data
/// window not the STMap's size), or a Matte not the Front's size.
pub fn stmap(inputs: &StMapInputs<'_>, params: &StMapParams) -> Result<StMapOutput> {
    let StMapInputs {
        front,
        stmap: map,
        matte,
    } = *inputs;
    params.validate(map.width(), map.height())?;
    if let Some(m) = matte {
        front.check_same_size(m, "Matte input")?;
    }
    let framing = StMapFraming::new(front, map, params)?;
    Ok(run(front, map, matte, params, &framing, None, None))
}

/// The node with validated inputs: builds what every invocation reads, runs
/// the filter over every output pixel and assembles the output images.
/// `prepared` (taps of this very map, framing and Front size) skips the fast
/// path's first pass; `recycled` is a buffer the fast path may reuse for
/// the result's RGBA (every pixel is overwritten).
fn run(
    front: &Image,
    map: &Image,
    matte: Option<&Image>,
    params: &StMapParams,
    framing: &StMapFraming,
    prepared: Option<&[fast::Taps]>,
    recycled: Option<Vec<[f32; 4]>>,
) -> StMapOutput {
    let mut extra_planes: Vec<&[f32]> = front.extra.iter().map(|c| c.data.as_slice()).collect();
    if let Some(m) = matte {
        extra_planes.extend(m.extra.iter().map(|c| c.data.as_slice()));
    }
    let src = Source {
        w: front.width() as i32,
        h: front.height() as i32,
        rgba: front.pixels(),
        matte: matte.map(Image::pixels),
        extra: extra_planes,
        repeat_x: params.repeat_x,
        repeat_y: params.repeat_y,
    };
    let ctx = Ctx::new(&src, map, framing);
    let (w, h) = (map.width() as usize, map.height() as usize);
    let n_extra = src.extra.len();
    let fast = Fast {
        with_matte: matte.is_some(),
        taps: prepared,
        recycled,
    };
    let (rgba, matte_px, extra) = match params.filter_mode {
        StMapFilter::Nearest => render::<NEAREST>(&ctx, fast),
        StMapFilter::Linear => render::<LINEAR>(&ctx, fast),
        StMapFilter::MitchellNetravali => render::<MITCHELL_NETRAVALI>(&ctx, fast),
        StMapFilter::CatmullRom => render::<CATMULL_ROM_FILTER>(&ctx, fast),
        StMapFilter::Anisotropic => render::<ANISO>(&ctx, fast),
        StMapFilter::AnisoLinear => render::<ANISO_LINEAR>(&ctx, fast),
        StMapFilter::Ewa => render::<EWA>(&ctx, fast),
        StMapFilter::EwaLinear => render::<EWA_LINEAR>(&ctx, fast),
    };

    // De-interleave the extra channels (pixel-major in `extra`) into planes.
    let plane = |k: usize| -> Vec<f32> { extra.iter().skip(k).step_by(n_extra).copied().collect() };
    let n_front_extra = front.extra.len();
    let finish = |source: &Image, pixels: Vec<[f32; 4]>, first: usize| {
        let mut img = Image::from_pixels(w as u32, h as u32, pixels);
        img.base = source.base;
        img.metadata = source.metadata.clone();
        img.data_window = framing.data_window;
        img.display_window = framing.display_window;
        img.extra = source
            .extra
            .iter()
            .enumerate()
            .map(|(k, c)| ExtraChannel {
                name: c.name.clone(),
                format: c.format,
                data: plane(first + k),
            })
            .collect();
        img
    };
    let result = finish(front, rgba, 0);
    let matte = matte.map(|m| finish(m, matte_px, n_front_extra));
    StMapOutput { result, matte }
}

/// The fast path's first pass over the whole STMap ([`fast::prepare`]) for
/// Fronts of geometry `front`, for [`PreparedStMap`]; empty for the filters
/// without a fast path.
fn prepare_taps(
    front: Geometry,
    map: &Image,
    params: &StMapParams,
    framing: &StMapFraming,
) -> Vec<fast::Taps> {
    // The taps read no Front pixel: only its size and the repeat modes.
    let src = Source {
        w: front.width as i32,
        h: front.height as i32,
        rgba: &[],
        matte: None,
        extra: Vec::new(),
        repeat_x: params.repeat_x,
        repeat_y: params.repeat_y,
    };
    let ctx = Ctx::new(&src, map, framing);
    match params.filter_mode {
        StMapFilter::Nearest => fast::prepare::<NEAREST>(&ctx),
        StMapFilter::Linear => fast::prepare::<LINEAR>(&ctx),
        StMapFilter::MitchellNetravali => fast::prepare::<MITCHELL_NETRAVALI>(&ctx),
        StMapFilter::CatmullRom => fast::prepare::<CATMULL_ROM_FILTER>(&ctx),
        _ => Vec::new(),
    }
}

/// What [`render`] may use for the RGBA-only fast path.
struct Fast<'a> {
    /// A Matte is warped too (no fast path).
    with_matte: bool,
    /// Prepared taps for this filter, if any.
    taps: Option<&'a [fast::Taps]>,
    /// A buffer to reuse for the RGBA output.
    recycled: Option<Vec<[f32; 4]>>,
}

/// What every invocation reads.
struct Ctx<'a> {
    src: &'a Source<'a>,
    framing: &'a StMapFraming,
    foot: FootprintInput<'a>,
}

impl<'a> Ctx<'a> {
    fn new(src: &'a Source<'a>, map: &'a Image, framing: &'a StMapFraming) -> Self {
        Ctx {
            src,
            framing,
            foot: FootprintInput {
                map: map.pixels(),
                width: map.width() as usize,
                height: map.height() as usize,
                framing,
                wrap_u: src.repeat_x.period(src.w as u32),
                wrap_v: src.repeat_y.period(src.h as u32),
            },
        }
    }
}

// The filter as a const parameter, so each filter gets its own tight loop.
const NEAREST: u8 = 0;
const LINEAR: u8 = 1;
const MITCHELL_NETRAVALI: u8 = 2;
const CATMULL_ROM_FILTER: u8 = 3;
const ANISO: u8 = 4;
const ANISO_LINEAR: u8 = 5;
const EWA: u8 = 6;
const EWA_LINEAR: u8 = 7;

/// Rows per rayon task.
const BAND_ROWS: usize = 32;
/// Columns per tile within a band: a 32 × 32 tile of a rotated or zoomed map
/// reads a source region that stays in L1/L2, where whole rows would not
/// (1.5–2× faster on a rotated 1080p map).
const TILE_COLS: usize = 32;

/// `n` zeros, written by every rayon worker in parallel: `vec![0; n]` is one
/// `memset` on one thread (a `calloc` of reused heap memory), ~2 ms for a
/// 1080p RGBA frame, the largest serial part of a frame on two threads.
fn zeroed<T: Copy + Default + Send + Sync>(n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.par_extend(rayon::iter::repeat_n(T::default(), n));
    v
}

/// The output planes of one frame: Front RGBA, Matte RGBA (empty without
/// a Matte) and the extra channels (pixel-major).
type Planes = (Vec<[f32; 4]>, Vec<[f32; 4]>, Vec<f32>);

/// Runs [`shade`] for every output pixel, bands of rows in parallel, tiles
/// within a band. The order only matters for speed: every pixel is computed
/// on its own, as by a shader invocation. The RGBA-only case of the
/// Nearest, Linear and cubic filters goes through `fast` (same pixels).
fn render<const F: u8>(ctx: &Ctx<'_>, fast: Fast<'_>) -> Planes {
    let w = ctx.foot.width;
    let h = ctx.foot.height;
    let n = ctx.src.extra.len();
    let with_matte = fast.with_matte;
    if w * h == 0 {
        // An empty STMap (chunks of zero rows would panic).
        return (Vec::new(), Vec::new(), Vec::new());
    }
    if !with_matte && n == 0 && fast::has_fast_path(F) {
        let rgba = match fast.taps {
            Some(taps) => {
                let mut rgba = fast.recycled.unwrap_or_default();
                // Only a grown buffer is written here: the gather writes
                // every pixel.
                rgba.resize(w * h, [0.0; 4]);
                fast::render_prepared::<F>(ctx, taps, &mut rgba);
                rgba
            }
            None => fast::render::<F>(ctx),
        };
        return (rgba, Vec::new(), Vec::new());
    }
    let mut rgba = zeroed(w * h);
    let mut matte = if with_matte {
        zeroed(w * h)
    } else {
        Vec::new()
    };
    let mut extra = zeroed(w * h * n);
    let band = w * BAND_ROWS;
    if !with_matte && n == 0 {
        rgba.par_chunks_mut(band).enumerate().for_each(|(b, out)| {
            for_tile_pixels(ctx, b * BAND_ROWS, out.len() / w, |x, y, i| {
                let mut acc = RgbaAcc([0.0; 4]);
                shade::<F, _>(ctx, x, y, &mut acc);
                out[i] = acc.0;
            });
        });
        return (rgba, matte, extra);
    }
    let bands = h.div_ceil(BAND_ROWS);
    let matte_bands: Vec<&mut [[f32; 4]]> = if !with_matte {
        (0..bands).map(|_| <&mut [_]>::default()).collect()
    } else {
        matte.chunks_mut(band).collect()
    };
    let extra_bands: Vec<&mut [f32]> = if n == 0 {
        (0..bands).map(|_| <&mut [_]>::default()).collect()
    } else {
        extra.chunks_mut(band * n).collect()
    };
    rgba.par_chunks_mut(band)
        .zip(matte_bands)
        .zip(extra_bands)
        .enumerate()
        .for_each(|(b, ((out, mout), eout))| {
            for_tile_pixels(ctx, b * BAND_ROWS, out.len() / w, |x, y, i| {
                let mut acc = FullAcc {
                    rgba: [0.0; 4],
                    matte: [0.0; 4],
                    extra: &mut eout[i * n..(i + 1) * n],
                };
                shade::<F, _>(ctx, x, y, &mut acc);
                out[i] = acc.rgba;
                if let Some(m) = mout.get_mut(i) {
                    *m = acc.matte;
                }
            });
        });
    (rgba, matte, extra)
}

/// Calls `f(x, y, index within the band)` for a band of `rows` rows starting
/// at `y0`, tile by tile.
#[inline(always)]
fn for_tile_pixels(ctx: &Ctx<'_>, y0: usize, rows: usize, mut f: impl FnMut(usize, usize, usize)) {
    let w = ctx.foot.width;
    for x0 in (0..w).step_by(TILE_COLS) {
        let x1 = (x0 + TILE_COLS).min(w);
        for r in 0..rows {
            for x in x0..x1 {
                f(x, y0 + r, r * w + x);
            }
        }
    }
}

/// One output pixel: what one shader invocation does. Leaves `acc` at zero
/// (transparent black) where the STMap has no usable sample.
///
/// 1. read (s, t), the framing's position ([`StMapFraming::position`]);
/// 2. snap it onto pixel centres ([`snap_cell`]);
/// 3. filter, with the Jacobian for the footprint filters.
#[inline(always)]
fn shade<const F: u8, A: Accum>(ctx: &Ctx<'_>, x: usize, y: usize, acc: &mut A) {
    let st = ctx.foot.map[y * ctx.foot.width + x];
    let Some(raw) = ctx.framing.position(st[0], st[1]) else {
        return;
    };
    let src = ctx.src;
    if F == NEAREST {
        return filters::nearest(src, raw[0], raw[1], acc);
    }
    let cx = snap_cell(raw[0], ctx.framing.snap_x);
    let cy = snap_cell(raw[1], ctx.framing.snap_y);
    match F {
        LINEAR => filters::bilinear(src, cx, cy, 1.0, acc),
        MITCHELL_NETRAVALI => filters::cubic(src, &MITCHELL, cx, cy, acc),
        CATMULL_ROM_FILTER => filters::cubic(src, &CATMULL_ROM, cx, cy, acc),
        _ => {
            let j = footprint::jacobian(&ctx.foot, x, y, raw);
            if (F == ANISO_LINEAR || F == EWA_LINEAR) && filters::magnifies(&j) {
                filters::bilinear(src, cx, cy, 1.0, acc);
            } else if F == ANISO || F == ANISO_LINEAR {
                filters::anisotropic(src, &j, cx, cy, acc);
            } else {
                filters::ewa(src, &j, cx.pos(), cy.pos(), acc);
            }
        }
    }
}
