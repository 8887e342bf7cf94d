//! Motion blur along motion vectors (issue #6, SPEC §2 `motion_blur`,
//! `samples`, `shutter`, `reference`): the CPU reference, which
//! `shaders/motion_blur*.wgsl` follow step for step.
//!
//! # What is integrated
//!
//! The output at pixel `X` is the mean over the shutter taps
//! `t_i = shutter·(i/(n−1) − ½)` ([`MotionBlurParams::tap_offsets`]) of the
//! colour of the surface that covers `X` at time `t_i`. `image` is the frame
//! at time 0; `forward[p]` is where pixel `p` is one frame later,
//! `backward[p]` where it was one frame earlier, so a surface point `p` is at
//! `p + t·forward[p]` for `t > 0` and `p + |t|·backward[p]` for `t < 0`
//! (linear motion within each half, extrapolated beyond one frame).
//!
//! # Why not a plain gather
//!
//! The plain vector blur averages `image(X − t·v(X))` with `X`'s *own*
//! vector. At a motion boundary that is wrong both ways: a moving object
//! does not streak over the background next to it (the background pixels
//! have background vectors), and the background right next to a moving
//! object, or inside its trailing edge, is smeared with the object's
//! vectors. This module follows the idea of McGuire, Hennessy, Bukowski &
//! Osman, "A reconstruction filter for plausible motion blur" (I3D 2012):
//! per-tile maximum velocities gathered over a neighbourhood of tiles give
//! the candidates that can reach a pixel, and soft comparisons decide which
//! one is seen. Instead of McGuire's cone/cylinder weights along one line,
//! each tap here solves the visibility question directly:
//!
//! 1. **Candidates** (per tap, per field): `X`'s own vector, and the
//!    largest and smallest vectors of the tile neighbourhood around `X`
//!    (tiles of [`TILE_SIZE`] px; the neighbourhood spans
//!    `ceil(reach / TILE_SIZE)` tiles each way, where `reach` is the
//!    longest displacement of the frame, so every pixel that can reach `X`
//!    within the shutter is covered; at most [`MAX_TILE_RADIUS`]).
//!    Candidates landing within [`MERGE_DISTANCE`] px of an earlier one are
//!    dropped.
//! 2. **Consistency**: candidate `u` says "the surface at `q = X − τ·u`
//!    reaches `X` at time `t`" (`τ = |t|`). It is checked against the
//!    vector `w` actually found at `q` (bilinear): landing error
//!    `e = τ·|w − u|`, confidence `c = clamp(2 − e/a, 0, 1)` with
//!    `a = CONSISTENCY_PX + CONSISTENCY_REL·τ·|u|`: 1 up to `a` px, 0 from
//!    `2a`. A fast object's vectors (the neighbourhood maximum) are
//!    consistent over the background it passes, so it streaks over it; the
//!    object's vectors smeared onto background pixels are not, so the
//!    background keeps its own.
//! 3. **Visibility order**: consistent candidates are composited front to
//!    back, `weight_k = c_k·Π_{j in front}(1 − c_j)`. Front is the larger
//!    key `|w_raw| + VISIBLE_KEY·(1 − occlusion(q))`: a pixel that the
//!    occlusion map (when given: [`MotionBlurInputs::forward_occlusion`] for
//!    `t > 0`, `backward_occlusion` for `t < 0`, 1 = hidden in the
//!    neighbouring frame, as [`crate::ops::flow::FlowResult`] gives them)
//!    says will be hidden is behind; otherwise the faster surface (in the
//!    vectors as given, before the reference is subtracted) is in front,
//!    the motion-parallax rule that holds for a static or translating
//!    camera. Without occlusion maps a camera that tracks a foreground
//!    object inverts that rule; give the maps when the flow comes from
//!    [`crate::ops::flow::estimate_flow`]. Equal keys keep the candidate
//!    order (own vector first).
//! 4. **Revealed background**: what no candidate explains (`Π(1 − c)`) was
//!    hidden at time 0. With the neighbouring frame ([`MotionBlurInputs::next`]
//!    for `t > 0`, `previous` for `t < 0`) it is read there, where the
//!    background seen at `X` at time `t` lies: `X + r + (1 − τ)·w₀` (`w₀`
//!    the vector found at the own candidate's landing point, i.e. the
//!    background's, and `r` the reference vector, since the neighbouring
//!    frame is not stabilised). Without it, the colour at the own
//!    candidate's landing point `q₀` is used (background next to the
//!    object's trailing edge).
//!
//! Taps are bilinear at exact sub-pixel positions (no jitter, no noise):
//! below one pixel between taps the result is smooth, and more taps only
//! refine it. Every channel (RGBA, extra channels) uses the same weights.
//! The result is accumulated as `I(X) + (1/n)·Σ (S_i − I(X))`, so zero
//! vectors give the input back bit for bit.
//!
//! # Reference point
//!
//! With `params.reference = Some(p)`, the vectors at column `p.x`, row
//! `H − 1 − p.y` (y counts from the bottom, SPEC §2; clamped into the
//! image) of each field are subtracted from every vector of that field
//! before anything else, so that pixel stays sharp (its own vector is zero;
//! only an object really passing over it can cover it).
//! [`draw_reference_crosshair`] marks it for previews (`--show-reference`).
//!
//! # Conventions
//!
//! Positions are index coordinates (pixel `(i, j)`'s centre at `(i, j)`);
//! reads outside the image clamp to the edge; "bilinear" is
//! `lerp(lerp(a, b, fx), lerp(c, d, fx), fy)` with `lerp(a, b, f) =
//! a + f·(b − a)` after clamping the position into `[0, W−1] × [0, H−1]`
//! (which changes no result, and keeps integer conversions in range).
//! NaN or infinite samples, vectors or occlusion values are rejected.

#[cfg(any(test, feature = "test-support"))]
pub mod scene;
#[cfg(test)]
mod tests;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::flow::FlowField;
use crate::image::Image;
use crate::params::{MotionBlurParams, ReferencePoint};

/// Side of the square tiles whose largest and smallest vectors are the
/// neighbourhood candidates, in pixels.
pub const TILE_SIZE: u32 = 16;
/// Most tiles the neighbourhood reaches each way (a reach of
/// `16 × 16 = 256` px); longer displacements are still followed through a
/// pixel's own vector, but streaks from farther than that are not gathered.
pub const MAX_TILE_RADIUS: u32 = 16;
/// Candidates whose landing points are closer than this (pixels) to an
/// earlier candidate's are dropped as duplicates.
pub const MERGE_DISTANCE: f32 = 0.25;
/// Landing error (pixels) up to which a candidate is fully consistent.
pub const CONSISTENCY_PX: f32 = 0.5;
/// Part of a candidate's displacement added to the consistency allowance,
/// for the error of estimated flow growing with the distance followed.
pub const CONSISTENCY_REL: f32 = 0.05;
/// Key bonus of a candidate that is not occluded in the neighbouring frame,
/// larger than any speed.
pub const VISIBLE_KEY: f32 = 1.0e4;
/// Most weighted samples one tap reads: three candidates and the fill.
pub const MAX_TAP_SAMPLES: usize = 4;

/// The inputs of [`motion_blur_with`]: the frame, its two fields and the
/// optional extras that improve boundaries.
#[derive(Clone, Copy, Debug)]
pub struct MotionBlurInputs<'a> {
    /// The frame at the output time.
    pub image: &'a Image,
    /// Offset of every pixel to where it is one frame later (pixels, +y
    /// down), same size as `image`.
    pub forward: &'a FlowField,
    /// Offset of every pixel to where it was one frame earlier.
    pub backward: &'a FlowField,
    /// The frame one frame earlier: background revealed during the opening
    /// half of the shutter is read from it. Same size and channels as
    /// `image`.
    pub previous: Option<&'a Image>,
    /// The frame one frame later, for background revealed during the
    /// closing half. Same size and channels as `image`.
    pub next: Option<&'a Image>,
    /// Per pixel of `image`, 0..=1: how surely it is hidden in the next
    /// frame ([`crate::ops::flow::FlowResult::occlusion_forward`] of the
    /// pair (this, next)). Decides which layer is in front for `t > 0`.
    pub forward_occlusion: Option<&'a [f32]>,
    /// Per pixel of `image`: hidden in the previous frame
    /// ([`crate::ops::flow::FlowResult::occlusion_backward`] of the pair
    /// (previous, this)). Decides which layer is in front for `t < 0`.
    pub backward_occlusion: Option<&'a [f32]>,
}

impl<'a> MotionBlurInputs<'a> {
    /// The frame and its two fields, without neighbours or occlusion.
    pub fn new(image: &'a Image, forward: &'a FlowField, backward: &'a FlowField) -> Self {
        MotionBlurInputs {
            image,
            forward,
            backward,
            previous: None,
            next: None,
            forward_occlusion: None,
            backward_occlusion: None,
        }
    }

    /// Checks sizes, channel layouts and finiteness of every input.
    ///
    /// # Errors
    /// [`Error::SizeMismatch`] for a field, neighbour or occlusion map of
    /// another size, [`Error::Unsupported`] for a neighbour with other
    /// extra channels, [`Error::NonFinite`] for NaN or infinite samples,
    /// vectors or occlusion values.
    pub fn validate(&self) -> Result<()> {
        let image = self.image;
        let size = image.size();
        for (what, field) in [
            ("forward vectors", self.forward),
            ("backward vectors", self.backward),
        ] {
            if field.size() != size {
                return Err(Error::SizeMismatch {
                    what: what.to_owned(),
                    actual: field.size(),
                    expected: size,
                });
            }
        }
        image.check_finite()?;
        for (what, neighbour) in [("previous frame", self.previous), ("next frame", self.next)] {
            let Some(n) = neighbour else { continue };
            image.check_same_size(n, what)?;
            let names = |i: &Image| i.extra.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
            if names(n) != names(image) {
                return Err(Error::Unsupported(format!(
                    "the {what} has extra channels {:?}, the frame has {:?}",
                    names(n),
                    names(image)
                )));
            }
            n.check_finite()?;
        }
        for (names, field) in [
            (["forward.u", "forward.v"], self.forward),
            (["backward.u", "backward.v"], self.backward),
        ] {
            check_finite_vectors(field, names)?;
        }
        for (what, occlusion) in [
            ("forward occlusion", self.forward_occlusion),
            ("backward occlusion", self.backward_occlusion),
        ] {
            let Some(occ) = occlusion else { continue };
            if occ.len() != image.pixels().len() {
                return Err(Error::Unsupported(format!(
                    "{what} has {} values, the frame {size} has {} pixels",
                    occ.len(),
                    image.pixels().len()
                )));
            }
            if let Some(i) = occ.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    x: (i % size.width as usize) as u32,
                    y: (i / size.width as usize) as u32,
                    channel: what.to_owned(),
                    value: occ[i],
                });
            }
        }
        Ok(())
    }
}

fn check_finite_vectors(field: &FlowField, names: [&str; 2]) -> Result<()> {
    for (i, v) in field.vectors().iter().enumerate() {
        for (c, value) in v.iter().enumerate() {
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    x: (i % field.width() as usize) as u32,
                    y: (i / field.width() as usize) as u32,
                    channel: names[c].to_owned(),
                    value: *value,
                });
            }
        }
    }
    Ok(())
}

/// What is derived once per frame from the fields and the parameters, shared
/// by the CPU and the GPU (which gets it in its uniform).
#[derive(Clone, Debug, PartialEq)]
pub struct MotionBlurSetup {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Forward vector subtracted from every forward vector (zero without a
    /// reference point).
    pub reference_forward: [f32; 2],
    /// Backward vector subtracted from every backward vector.
    pub reference_backward: [f32; 2],
    /// Tiles across (`ceil(width / TILE_SIZE)`).
    pub tiles_x: u32,
    /// Tiles down.
    pub tiles_y: u32,
    /// Neighbourhood radius in tiles: `ceil(reach / TILE_SIZE)` clamped to
    /// `1..=MAX_TILE_RADIUS`, where reach is the longest displacement
    /// (after the reference is subtracted) within half the shutter.
    pub tile_radius: u32,
    /// Tap times in frames ([`MotionBlurParams::tap_offsets`]).
    pub taps: Vec<f32>,
    /// `1 / samples` as f32.
    pub inv_samples: f32,
}

impl MotionBlurSetup {
    /// Validates `params` and derives the setup for these fields.
    ///
    /// # Errors
    /// [`Error::Parameter`] for parameters out of range,
    /// [`Error::SizeMismatch`] if the fields differ in size.
    pub fn new(
        forward: &FlowField,
        backward: &FlowField,
        params: &MotionBlurParams,
    ) -> Result<MotionBlurSetup> {
        params.validate()?;
        if forward.size() != backward.size() {
            return Err(Error::SizeMismatch {
                what: "backward vectors".to_owned(),
                actual: backward.size(),
                expected: forward.size(),
            });
        }
        let (width, height) = (forward.width(), forward.height());
        let (reference_forward, reference_backward) = match params.reference {
            Some(p) => (reference_vector(forward, p), reference_vector(backward, p)),
            None => ([0.0; 2], [0.0; 2]),
        };
        let longest =
            max_speed(forward, reference_forward).max(max_speed(backward, reference_backward));
        let reach = longest * 0.5 * params.shutter;
        let tile_radius = ((reach / TILE_SIZE as f32).ceil() as u32).clamp(1, MAX_TILE_RADIUS);
        Ok(MotionBlurSetup {
            width,
            height,
            reference_forward,
            reference_backward,
            tiles_x: width.div_ceil(TILE_SIZE),
            tiles_y: height.div_ceil(TILE_SIZE),
            tile_radius,
            taps: params.tap_offsets(),
            inv_samples: 1.0 / params.samples as f32,
        })
    }

    /// Number of tiles.
    pub fn tile_count(&self) -> usize {
        self.tiles_x as usize * self.tiles_y as usize
    }
}

/// The pixel a reference point names: column `p.x`, row `H − 1 − p.y`
/// (y from the bottom), clamped into a `width × height` image.
pub fn reference_pixel(p: ReferencePoint, width: u32, height: u32) -> (u32, u32) {
    // Sizes are at least 1 for any image or field; max(1) keeps the clamp
    // bounds ordered anyway.
    let (w, h) = (width.max(1) as i64, height.max(1) as i64);
    let x = (p.x as i64).clamp(0, w - 1) as u32;
    let y = (h - 1 - p.y as i64).clamp(0, h - 1) as u32;
    (x, y)
}

/// The vector of `field` at the reference point.
pub fn reference_vector(field: &FlowField, p: ReferencePoint) -> [f32; 2] {
    let (x, y) = reference_pixel(p, field.width(), field.height());
    field.at(x, y)
}

/// Longest `|v − r|` over a field.
fn max_speed(field: &FlowField, r: [f32; 2]) -> f32 {
    field
        .vectors()
        .par_chunks(4096)
        .map(|chunk| {
            chunk
                .iter()
                .map(|v| {
                    let (dx, dy) = (v[0] - r[0], v[1] - r[1]);
                    dx * dx + dy * dy
                })
                .fold(0.0f32, f32::max)
        })
        .reduce(|| 0.0, f32::max)
        .sqrt()
}

/// Squared length, written out (the shader does the same).
#[inline]
fn len2(v: [f32; 2]) -> f32 {
    v[0] * v[0] + v[1] * v[1]
}

/// Pass 1 (`motion_blur_tiles.wgsl::tiles`, one invocation per tile): per
/// tile, the longest and shortest vector after subtracting the reference,
/// `[max.x, max.y, min.x, min.y]`; forward tiles first, then backward
/// (`2 × tile_count` entries). Pixels are scanned row by row; a vector
/// replaces the current one only if strictly longer (shorter).
pub fn tile_extremes(
    forward: &FlowField,
    backward: &FlowField,
    s: &MotionBlurSetup,
) -> Vec<[f32; 4]> {
    let count = s.tile_count();
    (0..2 * count)
        .into_par_iter()
        .map(|i| {
            let (field, r) = if i < count {
                (forward, s.reference_forward)
            } else {
                (backward, s.reference_backward)
            };
            let t = i % count;
            let (tx, ty) = (
                (t % s.tiles_x as usize) as u32,
                (t / s.tiles_x as usize) as u32,
            );
            let x_end = ((tx + 1) * TILE_SIZE).min(s.width);
            let y_end = ((ty + 1) * TILE_SIZE).min(s.height);
            let (mut max, mut min) = ([0.0f32; 2], [0.0f32; 2]);
            let (mut max_l, mut min_l) = (-1.0f32, f32::INFINITY);
            for y in ty * TILE_SIZE..y_end {
                for x in tx * TILE_SIZE..x_end {
                    let v = field.at(x, y);
                    let v = [v[0] - r[0], v[1] - r[1]];
                    let l = len2(v);
                    if l > max_l {
                        max_l = l;
                        max = v;
                    }
                    if l < min_l {
                        min_l = l;
                        min = v;
                    }
                }
            }
            [max[0], max[1], min[0], min[1]]
        })
        .collect()
}

/// Pass 2 (`motion_blur_tiles.wgsl::neighbours`, one invocation per tile):
/// the longest of the tile maxima and the shortest of the tile minima over
/// the `(2·tile_radius + 1)²` tiles around each tile (clipped to the
/// frame), row by row, strict comparisons; same layout as
/// [`tile_extremes`].
pub fn neighbourhood_extremes(tiles: &[[f32; 4]], s: &MotionBlurSetup) -> Vec<[f32; 4]> {
    let count = s.tile_count();
    let r = s.tile_radius as i64;
    (0..2 * count)
        .into_par_iter()
        .map(|i| {
            let base = if i < count { 0 } else { count };
            let t = i % count;
            let (tx, ty) = (
                (t % s.tiles_x as usize) as i64,
                (t / s.tiles_x as usize) as i64,
            );
            let (mut max, mut min) = ([0.0f32; 2], [0.0f32; 2]);
            let (mut max_l, mut min_l) = (-1.0f32, f32::INFINITY);
            for ny in (ty - r).max(0)..=(ty + r).min(s.tiles_y as i64 - 1) {
                for nx in (tx - r).max(0)..=(tx + r).min(s.tiles_x as i64 - 1) {
                    let e = tiles[base + ny as usize * s.tiles_x as usize + nx as usize];
                    let l = len2([e[0], e[1]]);
                    if l > max_l {
                        max_l = l;
                        max = [e[0], e[1]];
                    }
                    let l = len2([e[2], e[3]]);
                    if l < min_l {
                        min_l = l;
                        min = [e[2], e[3]];
                    }
                }
            }
            [max[0], max[1], min[0], min[1]]
        })
        .collect()
}

/// Where a weighted sample is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleSource {
    /// The frame itself.
    Image,
    /// The previous frame.
    Previous,
    /// The next frame.
    Next,
}

/// One weighted bilinear read of a tap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TapSample {
    /// Which image.
    pub source: SampleSource,
    /// Column (index coordinates).
    pub x: f32,
    /// Row.
    pub y: f32,
    /// Weight within the tap (a tap's weights sum to 1).
    pub weight: f32,
}

const NO_SAMPLE: TapSample = TapSample {
    source: SampleSource::Image,
    x: 0.0,
    y: 0.0,
    weight: 0.0,
};

/// Clamps a position into the image (no result changes: reads clamp to the
/// edge anyway) and splits it into cell and fraction.
#[inline]
fn cell(x: f32, n: u32) -> (usize, usize, f32) {
    let x = x.clamp(0.0, (n - 1) as f32);
    // x >= 0, so truncation is the floor (and stays inline, unlike floorf
    // on baseline x86-64).
    let i = x as usize;
    let f = x - i as f32;
    (i, (i + 1).min(n as usize - 1), f)
}

#[inline]
fn lerp(a: f32, b: f32, f: f32) -> f32 {
    a + f * (b - a)
}

/// Bilinear read of a vector field at `(x, y)`.
#[inline]
fn vector_at(v: &[[f32; 2]], w: u32, h: u32, x: f32, y: f32) -> [f32; 2] {
    let (x0, x1, fx) = cell(x, w);
    let (y0, y1, fy) = cell(y, h);
    let (r0, r1) = (y0 * w as usize, y1 * w as usize);
    let (a, b, c, d) = (v[r0 + x0], v[r0 + x1], v[r1 + x0], v[r1 + x1]);
    let mut out = [0.0; 2];
    for k in 0..2 {
        let top = lerp(a[k], b[k], fx);
        let bottom = lerp(c[k], d[k], fx);
        out[k] = lerp(top, bottom, fy);
    }
    out
}

/// Bilinear read of a scalar plane.
#[inline]
fn scalar_at(p: &[f32], w: u32, h: u32, x: f32, y: f32) -> f32 {
    let (x0, x1, fx) = cell(x, w);
    let (y0, y1, fy) = cell(y, h);
    let (r0, r1) = (y0 * w as usize, y1 * w as usize);
    let top = lerp(p[r0 + x0], p[r0 + x1], fx);
    let bottom = lerp(p[r1 + x0], p[r1 + x1], fx);
    lerp(top, bottom, fy)
}

/// Bilinear read of an RGBA image.
#[inline]
fn rgba_at(p: &[[f32; 4]], w: u32, h: u32, x: f32, y: f32) -> [f32; 4] {
    let (x0, x1, fx) = cell(x, w);
    let (y0, y1, fy) = cell(y, h);
    let (r0, r1) = (y0 * w as usize, y1 * w as usize);
    let (a, b, c, d) = (p[r0 + x0], p[r0 + x1], p[r1 + x0], p[r1 + x1]);
    let mut out = [0.0; 4];
    for k in 0..4 {
        let top = lerp(a[k], b[k], fx);
        let bottom = lerp(c[k], d[k], fx);
        out[k] = lerp(top, bottom, fy);
    }
    out
}

/// The per-pixel context: the fields, the neighbourhood tiles, the optional
/// occlusion maps and which neighbours exist.
pub struct TapContext<'a> {
    /// Setup of the frame.
    pub setup: &'a MotionBlurSetup,
    /// Forward vectors (as given; the reference is subtracted on read).
    pub forward: &'a [[f32; 2]],
    /// Backward vectors.
    pub backward: &'a [[f32; 2]],
    /// Neighbourhood extremes ([`neighbourhood_extremes`]).
    pub tiles: &'a [[f32; 4]],
    /// Forward occlusion map, if any.
    pub forward_occlusion: Option<&'a [f32]>,
    /// Backward occlusion map, if any.
    pub backward_occlusion: Option<&'a [f32]>,
    /// The previous frame exists.
    pub has_previous: bool,
    /// The next frame exists.
    pub has_next: bool,
}

/// A candidate of one tap.
#[derive(Clone, Copy)]
struct Candidate {
    q: [f32; 2],
    confidence: f32,
    key: f32,
    found: [f32; 2],
}

impl TapContext<'_> {
    /// The weighted reads of the tap at time `t` for output pixel `(x, y)`
    /// (steps 1–4 of the module docs); returns how many of `out` are used.
    /// The weights sum to 1 (to rounding).
    pub fn tap_samples(
        &self,
        x: u32,
        y: u32,
        t: f32,
        out: &mut [TapSample; MAX_TAP_SAMPLES],
    ) -> usize {
        let s = self.setup;
        let (xf, yf) = (x as f32, y as f32);
        if t == 0.0 {
            out[0] = TapSample {
                source: SampleSource::Image,
                x: xf,
                y: yf,
                weight: 1.0,
            };
            return 1;
        }
        let forward = t > 0.0;
        let (field, r, occlusion, tile_base, has_fill, fill_source) = if forward {
            (
                self.forward,
                s.reference_forward,
                self.forward_occlusion,
                0,
                self.has_next,
                SampleSource::Next,
            )
        } else {
            (
                self.backward,
                s.reference_backward,
                self.backward_occlusion,
                s.tile_count(),
                self.has_previous,
                SampleSource::Previous,
            )
        };
        let tau = t.abs();
        let (w, h) = (s.width, s.height);
        let own = field[y as usize * w as usize + x as usize];
        let tile = self.tiles
            [tile_base + (y / TILE_SIZE) as usize * s.tiles_x as usize + (x / TILE_SIZE) as usize];
        let velocities = [
            [own[0] - r[0], own[1] - r[1]],
            [tile[0], tile[1]],
            [tile[2], tile[3]],
        ];
        // Steps 1-2: candidates, duplicates dropped, consistency and key.
        let mut cands = [Candidate {
            q: [0.0; 2],
            confidence: 0.0,
            key: 0.0,
            found: [0.0; 2],
        }; 3];
        let mut order = [0usize; 3];
        let mut n = 0usize;
        for (k, u) in velocities.iter().enumerate() {
            let duplicate = (0..k).any(|j| {
                let d = [u[0] - velocities[j][0], u[1] - velocities[j][1]];
                tau * len2(d).sqrt() < MERGE_DISTANCE
            });
            if duplicate {
                continue;
            }
            let q = [xf - tau * u[0], yf - tau * u[1]];
            let raw = vector_at(field, w, h, q[0], q[1]);
            let found = [raw[0] - r[0], raw[1] - r[1]];
            let d = [found[0] - u[0], found[1] - u[1]];
            let error = tau * len2(d).sqrt();
            let allowance = CONSISTENCY_PX + CONSISTENCY_REL * tau * len2(*u).sqrt();
            let confidence = (2.0 - error / allowance).clamp(0.0, 1.0);
            let occluded = occlusion.map_or(0.0, |o| scalar_at(o, w, h, q[0], q[1]));
            let key = len2(raw).sqrt() + VISIBLE_KEY * (1.0 - occluded);
            cands[n] = Candidate {
                q,
                confidence,
                key,
                found,
            };
            // Step 3: insertion by key, descending; ties keep earlier first.
            let mut slot = n;
            while slot > 0 && cands[order[slot - 1]].key < key {
                order[slot] = order[slot - 1];
                slot -= 1;
            }
            order[slot] = n;
            n += 1;
        }
        // Front-to-back compositing.
        let mut used = 0usize;
        let mut transmit = 1.0f32;
        for &k in &order[..n] {
            let c = cands[k];
            if c.confidence > 0.0 {
                out[used] = TapSample {
                    source: SampleSource::Image,
                    x: c.q[0],
                    y: c.q[1],
                    weight: transmit * c.confidence,
                };
                used += 1;
                transmit *= 1.0 - c.confidence;
            }
        }
        // Step 4: what is left was hidden at time 0. The own candidate is
        // never a duplicate, so it is cands[0].
        if transmit > 0.0 {
            let own = cands[0];
            out[used] = if has_fill {
                let m = 1.0 - tau;
                TapSample {
                    source: fill_source,
                    x: xf + r[0] + m * own.found[0],
                    y: yf + r[1] + m * own.found[1],
                    weight: transmit,
                }
            } else {
                TapSample {
                    source: SampleSource::Image,
                    x: own.q[0],
                    y: own.q[1],
                    weight: transmit,
                }
            };
            used += 1;
        }
        for o in &mut out[used..] {
            *o = NO_SAMPLE;
        }
        used
    }
}

/// Motion blur of `image` along `forward` / `backward` (module docs), with
/// no neighbouring frames or occlusion maps: revealed background is
/// reconstructed from the frame itself, and the faster surface is taken to
/// be in front.
///
/// # Errors
/// [`Error::Parameter`] for `params` out of range (SPEC §2), otherwise as
/// [`MotionBlurInputs::validate`].
pub fn motion_blur(
    image: &Image,
    forward: &FlowField,
    backward: &FlowField,
    params: &MotionBlurParams,
) -> Result<Image> {
    motion_blur_with(&MotionBlurInputs::new(image, forward, backward), params)
}

/// Motion blur with every input [`MotionBlurInputs`] can carry.
///
/// # Errors
/// As [`motion_blur`].
pub fn motion_blur_with(inputs: &MotionBlurInputs<'_>, params: &MotionBlurParams) -> Result<Image> {
    params.validate()?;
    inputs.validate()?;
    let setup = MotionBlurSetup::new(inputs.forward, inputs.backward, params)?;
    let tiles = tile_extremes(inputs.forward, inputs.backward, &setup);
    let tiles = neighbourhood_extremes(&tiles, &setup);
    let ctx = TapContext {
        setup: &setup,
        forward: inputs.forward.vectors(),
        backward: inputs.backward.vectors(),
        tiles: &tiles,
        forward_occlusion: inputs.forward_occlusion,
        backward_occlusion: inputs.backward_occlusion,
        has_previous: inputs.previous.is_some(),
        has_next: inputs.next.is_some(),
    };
    let image = inputs.image;
    let (w, h) = (setup.width, setup.height);
    let prev = inputs.previous.unwrap_or(image);
    let next = inputs.next.unwrap_or(image);
    let planes = image.extra.len();
    let mut rgba = vec![[0.0f32; 4]; image.pixels().len()];
    // With no extra planes the buffer is one unused value per pixel, so the
    // two outputs still zip row by row.
    let mut extra: Vec<f32> = vec![0.0; planes.max(1) * image.pixels().len()];
    let row = w as usize;
    // Extra planes are computed into one interleaved buffer (pixel-major),
    // so rows of both outputs can be filled in parallel together.
    rgba.par_chunks_mut(row)
        .zip(extra.par_chunks_mut(row * planes.max(1)))
        .enumerate()
        .for_each(|(y, (out_rgba, out_extra))| {
            let mut samples = [NO_SAMPLE; MAX_TAP_SAMPLES];
            let mut acc_extra = vec![0.0f32; planes];
            let mut tap_extra = vec![0.0f32; planes];
            for x in 0..w {
                let i = y * row + x as usize;
                let base = image.pixels()[i];
                let mut acc = [0.0f32; 4];
                acc_extra.iter_mut().for_each(|a| *a = 0.0);
                for &t in &setup.taps {
                    let n = ctx.tap_samples(x, y as u32, t, &mut samples);
                    let mut tap = [0.0f32; 4];
                    tap_extra.iter_mut().for_each(|a| *a = 0.0);
                    for s in &samples[..n] {
                        let src = match s.source {
                            SampleSource::Image => image,
                            SampleSource::Previous => prev,
                            SampleSource::Next => next,
                        };
                        let c = rgba_at(src.pixels(), w, h, s.x, s.y);
                        for k in 0..4 {
                            tap[k] += s.weight * c[k];
                        }
                        for (p, te) in tap_extra.iter_mut().enumerate() {
                            *te += s.weight * scalar_at(&src.extra[p].data, w, h, s.x, s.y);
                        }
                    }
                    for k in 0..4 {
                        acc[k] += tap[k] - base[k];
                    }
                    for (p, a) in acc_extra.iter_mut().enumerate() {
                        *a += tap_extra[p] - image.extra[p].data[i];
                    }
                }
                let o = &mut out_rgba[x as usize];
                for k in 0..4 {
                    o[k] = base[k] + acc[k] * setup.inv_samples;
                }
                for (p, a) in acc_extra.iter().enumerate() {
                    out_extra[x as usize * planes + p] =
                        image.extra[p].data[i] + a * setup.inv_samples;
                }
            }
        });
    let mut out = image.with_pixels(rgba);
    for (p, channel) in out.extra.iter_mut().enumerate() {
        for (i, v) in channel.data.iter_mut().enumerate() {
            *v = extra[i * planes + p];
        }
    }
    Ok(out)
}

/// Half-length of the crosshair's arms, in pixels.
pub const CROSSHAIR_ARM: i64 = 12;
/// Gap left open around the reference pixel itself, in pixels.
pub const CROSSHAIR_GAP: i64 = 3;

/// Draws a crosshair centred on the reference point (y from the bottom,
/// clamped into the image like the reference itself) in `colour`, alpha 1,
/// for previews only (`--show-reference`): one-pixel lines of
/// [`CROSSHAIR_ARM`] pixels each way with a [`CROSSHAIR_GAP`]-pixel gap so
/// the reference pixel itself stays visible. Extra channels are untouched.
pub fn draw_reference_crosshair(image: &mut Image, p: ReferencePoint, colour: [f32; 3]) {
    if image.width() == 0 || image.height() == 0 {
        return;
    }
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (cx, cy) = reference_pixel(p, image.width(), image.height());
    let (cx, cy) = (cx as i64, cy as i64);
    let pixels = image.pixels_mut();
    let mut put = |x: i64, y: i64| {
        if (0..w).contains(&x) && (0..h).contains(&y) {
            pixels[(y * w + x) as usize] = [colour[0], colour[1], colour[2], 1.0];
        }
    };
    for d in CROSSHAIR_GAP..=CROSSHAIR_ARM {
        put(cx - d, cy);
        put(cx + d, cy);
        put(cx, cy - d);
        put(cx, cy + d);
    }
}
