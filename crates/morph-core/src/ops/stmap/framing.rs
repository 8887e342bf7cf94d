//! Framing (SPEC §3): how an STMap sample (s, t) becomes a position in the
//! Front, and which windows the output gets.
//!
//! Every framing mode reduces to one affine map per axis, computed once per
//! frame (it is the GPU uniform's framing block):
//!
//! ```text
//! u = s · scale_x + origin_x      Front pixels from the left edge of its data window
//! v = t · scale_y + origin_y      Front pixels from the top edge (scale_y < 0: t counts from the bottom)
//! ```
//!
//! Pixel `i` covers `[i, i + 1)`, its centre is `i + 0.5` (SPEC §1). With `W×H`
//! the Front's size, `M×N` the STMap's, `P` the Front's display window and `D`
//! its data window (EXR convention: y down), and `(ox, oy)` the `offset_x/y`
//! attributes (in Front pixels, `oy` positive *up*, like t):
//!
//! | mode | scale_x | origin_x | scale_y | origin_y |
//! |---|---|---|---|---|
//! | Use Entire Front Frame | `W` | `ox` | `−H` | `H − oy` |
//! | Use STMap to Front Ratio | `M` | `⌊(W − M)/2⌋ + ox` | `−N` | `N + ⌊(H − N)/2⌋ − oy` |
//! | Use Data & Display Window | `P.w` | `P.x − D.x + ox` | `−P.h` | `P.h + P.y − D.y − oy` |
//!
//! Our conventions where the SPEC leaves room:
//! - *STMap to Front Ratio* centres on whole pixels (the odd pixel of an odd
//!   size difference goes to the right / bottom), so an identity STMap copies
//!   (or pads) the Front pixel for pixel instead of blurring it by half a pixel.
//! - *Data & Display Window*: (0,0)–(1,1) spans the **Front's** display window
//!   and the Front's data window places its pixels, so a Front with overscan is
//!   reachable with s, t outside 0..1. The STMap's windows (from its EXR, or
//!   the `data_window` / `display_window` attributes, which win) become the
//!   output's windows: the output covers the STMap's data window. An attribute
//!   data window must be the STMap's size (it says where its pixels lie).
//! - The other two modes give an output with data = display window = the
//!   STMap's size at the origin.
//!
//! Exact identity: `fl(fl((x + 0.5)/M) · M)` is not always `x + 0.5` in f32
//! (nor on a GPU, whose division may be less exact still), so positions within
//! `snap` (2⁻²¹ × the axis's magnitude: 2–4 f32 ulps of the largest position)
//! of a pixel centre are put on it by [`snap_cell`]. Every other position is
//! left exactly as computed, so away from the centres the filters agree with
//! their textbook definitions (and with OpenImageIO's `st_warp`) to float
//! rounding; the price is a step of at most `snap` × the local gradient
//! where a position crosses the edge of the snap zone (`snap` < 0.001 px at
//! 2K, 0.004 px at 8K).

use crate::error::{Error, Result};
use crate::image::{Image, Rect};
use crate::params::{FramingMode, StMapParams, Window};

/// Positions at or beyond ±2²¹ source pixels count as outside, like NaN:
/// transparent black whatever the repeat mode. (No image is that large; the
/// bound keeps every position where an f32 still has sub-pixel precision and
/// where [`floor_i32`] is exact, filter footprints included.)
pub const MAX_POSITION: f32 = 2_097_152.0;

/// Snap half-width per unit of axis magnitude: `snap = 2⁻²¹ · (|scale| +
/// |origin| + 1)`, 2–4 f32 ulps of the largest position on the axis — the
/// error of `fl(fl((x + ½)/M) · M)` is at most about 1 ulp.
pub const SNAP_RELATIVE: f32 = 1.0 / 2_097_152.0;

/// The per-frame constants that turn (s, t) into a Front position, and the
/// output's windows. Built once by [`StMapFraming::new`]; the GPU uniform is
/// made from the same numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StMapFraming {
    /// `u = s · scale_x + origin_x`.
    pub scale_x: f32,
    /// See [`StMapFraming::scale_x`].
    pub origin_x: f32,
    /// `v = t · scale_y + origin_y` (negative: t counts from the bottom).
    pub scale_y: f32,
    /// See [`StMapFraming::scale_y`].
    pub origin_y: f32,
    /// Snapping onto pixel centres on x ([`snap_cell`]).
    pub snap_x: Snap,
    /// Snapping onto pixel centres on y.
    pub snap_y: Snap,
    /// The output's data window (its size is the STMap's).
    pub data_window: Rect,
    /// The output's display window.
    pub display_window: Rect,
}

/// What the framing needs to know about an image: its size and windows
/// (so a GPU backend holding only image headers computes the same framing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Width of the data window.
    pub width: u32,
    /// Height of the data window.
    pub height: u32,
    /// Data window.
    pub data_window: Rect,
    /// Display window.
    pub display_window: Rect,
}

impl Geometry {
    /// The geometry of `image`.
    pub fn of(image: &Image) -> Geometry {
        Geometry {
            width: image.width(),
            height: image.height(),
            data_window: image.data_window,
            display_window: image.display_window,
        }
    }
}

impl StMapFraming {
    /// The framing for these inputs (see the module docs for the formulas).
    ///
    /// # Errors
    /// [`Error::Parameter`] when an attribute data window is not the STMap's
    /// size, or the Front's display window is empty.
    pub fn new(front: &Image, stmap: &Image, params: &StMapParams) -> Result<Self> {
        Self::from_geometry(&Geometry::of(front), &Geometry::of(stmap), params)
    }

    /// [`StMapFraming::new`] from the images' [`Geometry`].
    ///
    /// # Errors
    /// As [`StMapFraming::new`].
    pub fn from_geometry(front: &Geometry, stmap: &Geometry, params: &StMapParams) -> Result<Self> {
        let (fw, fh) = (front.width as f64, front.height as f64);
        let (mw, mh) = (stmap.width as f64, stmap.height as f64);
        let (ox, oy) = (params.offset_x as f64, params.offset_y as f64);
        let plain = Rect::from_size(stmap.width, stmap.height);
        let (scale_x, origin_x, scale_y, origin_y, data_window, display_window) =
            match params.framing_mode {
                FramingMode::EntireFront => (fw, ox, -fh, fh - oy, plain, plain),
                FramingMode::StMapToFrontRatio => {
                    let cx = (front.width as i64 - stmap.width as i64).div_euclid(2) as f64;
                    let cy = (front.height as i64 - stmap.height as i64).div_euclid(2) as f64;
                    (mw, cx + ox, -mh, mh + cy - oy, plain, plain)
                }
                FramingMode::DataDisplayWindow => {
                    let p = front.display_window;
                    let d = front.data_window;
                    if p.width == 0 || p.height == 0 {
                        return Err(Error::parameter(
                            "framing_mode",
                            "Use Data & Display Window",
                            format!("a Front with a non-empty display window (it has {p})"),
                        ));
                    }
                    let data = match params.data_window {
                        Some(w) => window_rect(w),
                        None => stmap.data_window,
                    };
                    if data.width != stmap.width || data.height != stmap.height {
                        return Err(Error::parameter(
                            "data_window_max_x",
                            format!("{} (data window {data})", data.max_x()),
                            format!(
                                "a data window the STMap's size, {}x{}",
                                stmap.width, stmap.height
                            ),
                        ));
                    }
                    let display = params
                        .display_window
                        .map(window_rect)
                        .unwrap_or(stmap.display_window);
                    let (pw, ph) = (p.width as f64, p.height as f64);
                    (
                        pw,
                        (p.x as f64 - d.x as f64) + ox,
                        -ph,
                        ph + (p.y as f64 - d.y as f64) - oy,
                        data,
                        display,
                    )
                }
            };
        let snap = |scale: f64, origin: f64| {
            Snap::new(((scale.abs() + origin.abs() + 1.0) * SNAP_RELATIVE as f64).min(0.25) as f32)
        };
        Ok(StMapFraming {
            scale_x: scale_x as f32,
            origin_x: origin_x as f32,
            scale_y: scale_y as f32,
            origin_y: origin_y as f32,
            snap_x: snap(scale_x, origin_x),
            snap_y: snap(scale_y, origin_y),
            data_window,
            display_window,
        })
    }

    /// The raw (unsnapped) Front position of an STMap sample, or `None` when
    /// s or t is NaN/infinite or the position is beyond [`MAX_POSITION`].
    #[inline(always)]
    pub fn position(&self, s: f32, t: f32) -> Option<[f32; 2]> {
        let u = s * self.scale_x + self.origin_x;
        let v = t * self.scale_y + self.origin_y;
        // Written so that NaN fails the test.
        if u.abs() < MAX_POSITION && v.abs() < MAX_POSITION {
            Some([u, v])
        } else {
            None
        }
    }

    /// [`StMapFraming::position`] snapped ([`snap_cell`]): where the filters
    /// sample.
    #[inline(always)]
    pub fn sample_position(&self, s: f32, t: f32) -> Option<[f32; 2]> {
        self.position(s, t).map(|[u, v]| {
            [
                snap_cell(u, self.snap_x).pos(),
                snap_cell(v, self.snap_y).pos(),
            ]
        })
    }
}

/// An attribute window (inclusive corners) as a [`Rect`].
fn window_rect(w: Window) -> Rect {
    Rect {
        x: w.min_x,
        y: w.min_y,
        width: (w.max_x as i64 - w.min_x as i64 + 1) as u32,
        height: (w.max_y as i64 - w.min_y as i64 + 1) as u32,
    }
}

/// The snap zone of [`snap_cell`] on one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snap {
    /// Half-width `τ` in source pixels (≤ ¼).
    pub tau: f32,
}

impl Snap {
    /// The snap zone of half-width `tau` (clamped to 0..=¼).
    pub fn new(tau: f32) -> Snap {
        Snap {
            tau: tau.clamp(0.0, 0.25),
        }
    }
}

/// A snapped position on one axis, as interpolation wants it: `u − ½ = i + f`
/// (between the centres of texels `i` and `i + 1`), `0 ≤ f < 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    /// The texel left of (or at) the position.
    pub i: i32,
    /// The fraction towards texel `i + 1`.
    pub f: f32,
}

impl Cell {
    /// The position `i + ½ + f`.
    #[inline(always)]
    pub fn pos(self) -> f32 {
        self.i as f32 + 0.5 + self.f
    }
}

/// Puts a position within `τ` of a pixel centre on it and leaves every other
/// position alone: with `i = ⌊u − ½⌋` and the fraction `r = u − ½ − i`,
/// `r < τ` gives `(i, 0)`, `r > 1 − τ` gives `(i + 1, 0)`, else `(i, r)`.
/// Nothing moves by more than `τ`, the order of positions is kept, pixel
/// edges stay. Needs `|u| <` [`MAX_POSITION`].
#[inline(always)]
pub fn snap_cell(u: f32, snap: Snap) -> Cell {
    let x = u - 0.5;
    let i = floor_i32(x);
    let r = x - i as f32;
    let next = r > 1.0 - snap.tau;
    let f = if r < snap.tau || next { 0.0 } else { r };
    Cell {
        i: i + next as i32,
        f,
    }
}

/// `⌊x⌋` for `|x| < 2²²`, without a libm call or a saturating conversion:
/// adding `1.5 · 2²³` leaves `round(x)` in the low mantissa bits, and one
/// comparison turns it into the floor. (`f32::floor` is a libm call on
/// baseline x86-64, and `as i32` saturates with extra compares; this sits on
/// every tap's path.) WGSL's `floor` gives the same values.
#[inline(always)]
pub fn floor_i32(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2²³
    let n = ((x + MAGIC).to_bits() as i32).wrapping_sub(0x4B40_0000);
    n - ((n as f32) > x) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_matches_std() {
        let mut x = -4_194_303.0f32;
        while x < 4_194_303.0 {
            for dx in [-0.75f32, -0.5, -0.25, -1e-3, 0.0, 1e-3, 0.25, 0.5, 0.75] {
                let v = x + dx;
                assert_eq!(floor_i32(v), v.floor() as i32, "{v}");
            }
            x += 9_973.25;
        }
        for v in [
            -0.0f32,
            0.0,
            -1e-30,
            1e-30,
            0.49999997,
            -0.49999997,
            0.5,
            -0.5,
            2.5,
            -2.5,
        ] {
            assert_eq!(floor_i32(v), v.floor() as i32, "{v}");
        }
    }

    #[test]
    fn snap_is_monotone_small_and_exact_at_centres() {
        let tau = Snap::new(0.001);
        let snap_to_centre = |u: f32, s: Snap| snap_cell(u, s).pos();
        assert_eq!(snap_cell(10.5, tau), Cell { i: 10, f: 0.0 });
        assert_eq!(snap_cell(10.4995, tau), Cell { i: 10, f: 0.0 });
        assert_eq!(snap_to_centre(10.5, tau), 10.5);
        assert_eq!(snap_to_centre(10.5 + 0.0009, tau), 10.5);
        assert_eq!(snap_to_centre(10.5 - 0.0009, tau), 10.5);
        assert_eq!(snap_to_centre(10.75, tau), 10.75, "others stay");
        assert_eq!(snap_to_centre(10.502, tau), 10.502);
        assert_eq!(snap_to_centre(11.0, tau), 11.0, "pixel edges stay");
        assert_eq!(snap_to_centre(-3.0, tau), -3.0);
        let mut prev = snap_to_centre(9.0, tau);
        for k in 1..=4000 {
            let u = 9.0 + k as f32 / 1000.0;
            let s = snap_to_centre(u, tau);
            assert!(s >= prev, "monotone at {u}");
            assert!((s - u).abs() <= tau.tau + 2e-6, "moves {u} by {}", s - u);
            prev = s;
        }
    }

    #[test]
    fn identity_positions_land_on_centres() {
        // Every identity STMap value of common widths maps onto an exact centre.
        for w in [1u32, 7, 720, 1920, 2048, 4096, 4099] {
            let front = Image::new(w, 1);
            let f = StMapFraming::new(&front, &front, &StMapParams::default()).unwrap();
            for x in 0..w {
                let s = (x as f32 + 0.5) / w as f32;
                let [u, v] = f.sample_position(s, 0.5).unwrap();
                assert_eq!(u, x as f32 + 0.5, "w {w} x {x}");
                assert_eq!(v, 0.5);
            }
        }
    }
}
