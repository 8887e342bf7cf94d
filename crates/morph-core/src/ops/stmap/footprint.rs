//! The pixel footprint of the anisotropic and EWA filters: the STMap's
//! Jacobian from finite differences, in source pixels per output pixel, and
//! its singular values (the axes of the footprint ellipse).
//!
//! `J = [[∂u/∂x, ∂u/∂y], [∂v/∂x, ∂v/∂y]]`, with `x, y` output pixels (y down)
//! and `u, v` Front pixels (y down) from [`StMapFraming::position`], so the
//! framing's scale (Front or display-window size) is already in it.
//!
//! Each column is a one-sided difference to a neighbouring STMap pixel:
//! forward and backward are both formed and the **shorter** one is kept (a
//! minmod choice). On a smooth map that is the derivative to first order; at a
//! discontinuity of the map (a seam, a UDIM edge, the edge of a NaN region) it
//! takes the smooth side, so the pixels beside a seam are not blurred by a
//! footprint spanning the jump. A neighbour outside the STMap, or whose
//! position is NaN / beyond range, is not used; with neither, the column is
//! zero (the filters floor the footprint). With `Tiled Repeat` on an axis, a
//! difference along it is taken the short way round the period (the Front's
//! size), so a map that wraps (a lat-long seam) is not blurred at its seam.
//!
//! The singular values come from the eigen-decomposition of `J Jᵀ`:
//! `λ₁ = m + √(((a−c)/2)² + b²)` with `m = (a+c)/2`, `σ₁ = √λ₁`,
//! `σ₂ = |det J| / σ₁` (stable for thin ellipses); the major axis is the
//! eigenvector of `λ₁`. This is the ellipse Heckbert (1989, *Fundamentals of
//! Texture Mapping and Image Warping*, §3.5.8) builds from the same partials.

use super::framing::StMapFraming;

/// The STMap's Jacobian at one output pixel, in source pixels per output
/// pixel.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Jacobian {
    /// ∂u/∂x.
    pub du_dx: f32,
    /// ∂v/∂x.
    pub dv_dx: f32,
    /// ∂u/∂y.
    pub du_dy: f32,
    /// ∂v/∂y.
    pub dv_dy: f32,
}

/// The footprint ellipse: singular values of the Jacobian and the major axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Singular {
    /// Largest stretch, source pixels per output pixel.
    pub major: f32,
    /// Smallest stretch.
    pub minor: f32,
    /// Unit vector of the major axis in the source (u, v).
    pub axis: [f32; 2],
}

impl Jacobian {
    /// Length of the first column (the footprint's extent for one output step
    /// in x).
    #[inline(always)]
    pub fn column_x_len(&self) -> f32 {
        (self.du_dx * self.du_dx + self.dv_dx * self.dv_dx).sqrt()
    }

    /// Length of the second column (one output step in y).
    #[inline(always)]
    pub fn column_y_len(&self) -> f32 {
        (self.du_dy * self.du_dy + self.dv_dy * self.dv_dy).sqrt()
    }

    /// Singular values and major axis.
    #[inline(always)]
    pub fn singular(&self) -> Singular {
        let a = self.du_dx * self.du_dx + self.du_dy * self.du_dy;
        let b = self.du_dx * self.dv_dx + self.du_dy * self.dv_dy;
        let c = self.dv_dx * self.dv_dx + self.dv_dy * self.dv_dy;
        let half_diff = 0.5 * (a - c);
        let lambda1 = 0.5 * (a + c) + (half_diff * half_diff + b * b).sqrt();
        let major = lambda1.max(0.0).sqrt();
        let det = (self.du_dx * self.dv_dy - self.du_dy * self.dv_dx).abs();
        let minor = if major > 0.0 {
            (det / major).min(major)
        } else {
            0.0
        };
        // Eigenvector of λ₁: both forms are valid, keep the longer for precision.
        let (p, q) = ([b, lambda1 - a], [lambda1 - c, b]);
        let (lp, lq) = (p[0] * p[0] + p[1] * p[1], q[0] * q[0] + q[1] * q[1]);
        let (v, l) = if lp >= lq { (p, lp) } else { (q, lq) };
        let axis = if l > 0.0 {
            let r = l.sqrt().recip();
            [v[0] * r, v[1] * r]
        } else {
            [1.0, 0.0]
        };
        Singular { major, minor, axis }
    }
}

/// Everything [`jacobian`] reads: the STMap, its size, the framing and the
/// wrap periods.
#[derive(Clone, Copy, Debug)]
pub struct FootprintInput<'a> {
    /// The STMap pixels (s = R, t = G), top-down.
    pub map: &'a [[f32; 4]],
    /// STMap width.
    pub width: usize,
    /// STMap height.
    pub height: usize,
    /// The framing that turns (s, t) into positions.
    pub framing: &'a StMapFraming,
    /// Period on u (the Front's width) when `repeat_x` is Tiled, else 0.
    pub wrap_u: f32,
    /// Period on v (the Front's height) when `repeat_y` is Tiled, else 0.
    pub wrap_v: f32,
}

impl FootprintInput<'_> {
    #[inline(always)]
    fn pos(&self, x: usize, y: usize) -> Option<[f32; 2]> {
        let st = self.map[y * self.width + x];
        self.framing.position(st[0], st[1])
    }

    /// `b − a`, the short way round a period on tiled axes.
    #[inline(always)]
    fn diff(&self, a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
        let wrap = |d: f32, p: f32| {
            if p > 0.0 {
                d - p * super::framing::floor_i32(d / p + 0.5) as f32
            } else {
                d
            }
        };
        [
            wrap(b[0] - a[0], self.wrap_u),
            wrap(b[1] - a[1], self.wrap_v),
        ]
    }

    /// The shorter of the forward and backward differences from `c`.
    #[inline(always)]
    fn column(&self, c: [f32; 2], back: Option<[f32; 2]>, fwd: Option<[f32; 2]>) -> [f32; 2] {
        let f = fwd.map(|p| self.diff(c, p));
        let b = back.map(|p| self.diff(p, c));
        match (b, f) {
            (Some(b), Some(f)) => {
                if b[0] * b[0] + b[1] * b[1] < f[0] * f[0] + f[1] * f[1] {
                    b
                } else {
                    f
                }
            }
            (Some(d), None) | (None, Some(d)) => d,
            (None, None) => [0.0, 0.0],
        }
    }
}

/// The Jacobian at output pixel (`x`, `y`), whose own raw position is `c`.
#[inline(always)]
pub fn jacobian(input: &FootprintInput<'_>, x: usize, y: usize, c: [f32; 2]) -> Jacobian {
    let left = if x > 0 { input.pos(x - 1, y) } else { None };
    let right = if x + 1 < input.width {
        input.pos(x + 1, y)
    } else {
        None
    };
    let up = if y > 0 { input.pos(x, y - 1) } else { None };
    let down = if y + 1 < input.height {
        input.pos(x, y + 1)
    } else {
        None
    };
    let dx = input.column(c, left, right);
    let dy = input.column(c, up, down);
    Jacobian {
        du_dx: dx[0],
        dv_dx: dx[1],
        du_dy: dy[0],
        dv_dy: dy[1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-4 * (1.0 + b.abs())
    }

    #[test]
    fn singular_values_of_rotation_and_scale() {
        let (c, s) = (0.6f32, 0.8f32); // a rotation
        let j = Jacobian {
            du_dx: 8.0 * c,
            dv_dx: 8.0 * s,
            du_dy: -2.0 * s,
            dv_dy: 2.0 * c,
        };
        let sv = j.singular();
        assert!(close(sv.major, 8.0) && close(sv.minor, 2.0), "{sv:?}");
        assert!(
            close(sv.axis[0].abs(), c) && close(sv.axis[1].abs(), s),
            "{sv:?}"
        );
        let degenerate = Jacobian::default().singular();
        assert_eq!((degenerate.major, degenerate.minor), (0.0, 0.0));
        assert_eq!(degenerate.axis, [1.0, 0.0]);
        let line = Jacobian {
            du_dx: 0.0,
            dv_dx: 3.0,
            du_dy: 0.0,
            dv_dy: 0.0,
        }
        .singular();
        assert!(close(line.major, 3.0) && line.minor == 0.0 && close(line.axis[1].abs(), 1.0));
    }
}
