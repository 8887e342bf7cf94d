//! A single-channel f32 plane and the two sampling rules every flow pass
//! shares: nearest with clamp-to-edge, and bilinear with clamp-to-edge.
//!
//! Coordinates are *index* coordinates: the centre of pixel `(i, j)` is at
//! `(i, j)` (SPEC §1's `i + 0.5` minus the half pixel), so a flow vector is
//! added to an index directly.

/// One channel of `width × height` f32 samples, rows top-down.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plane {
    /// Width in samples.
    pub width: usize,
    /// Height in samples.
    pub height: usize,
    /// `width × height` samples, row-major.
    pub data: Vec<f32>,
}

impl Plane {
    /// A plane of zeros.
    pub fn zeros(width: usize, height: usize) -> Self {
        Plane {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// A plane over existing samples.
    pub fn from_vec(width: usize, height: usize, data: Vec<f32>) -> Self {
        debug_assert_eq!(data.len(), width * height);
        Plane {
            width,
            height,
            data,
        }
    }

    /// Sample at integer index `(x, y)`, clamped to the nearest edge pixel.
    #[inline]
    pub fn at(&self, x: isize, y: isize) -> f32 {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.data[y * self.width + x]
    }

    /// Row `y` as a slice.
    #[inline]
    pub fn row(&self, y: usize) -> &[f32] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    /// Row `clamp(y)`: the row-level half of clamp-to-edge.
    #[inline]
    pub fn row_clamped(&self, y: isize) -> &[f32] {
        self.row(y.clamp(0, self.height as isize - 1) as usize)
    }

    /// Bilinear sample at index coordinates `(x, y)` with clamp-to-edge:
    /// `ix = floor(x)`, `fx = x − ix`, taps at `clamp(ix)`, `clamp(ix + 1)`
    /// (same in y), blended as `lerp(lerp(a, b, fx), lerp(c, d, fx), fy)`
    /// with `lerp(a, b, f) = a + f·(b − a)`.
    ///
    /// The passes inline this rule in forms that need fewer clamps; the
    /// tests check them against this plain version.
    #[cfg(test)]
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        // Past one pixel outside, every tap is the edge pixel: clamping the
        // position there keeps the float→int conversion in range.
        let x = x.clamp(-1.0, self.width as f32);
        let y = y.clamp(-1.0, self.height as f32);
        let fx0 = floor_f32(x);
        let fy0 = floor_f32(y);
        let (fx, fy) = (x - fx0, y - fy0);
        let (ix, iy) = (fx0 as isize, fy0 as isize);
        if ix >= 0
            && iy >= 0
            && ((ix + 1) as usize) < self.width
            && ((iy + 1) as usize) < self.height
        {
            // Interior: no clamping needed (same result, fewer branches).
            let k = iy as usize * self.width + ix as usize;
            let (a, b) = (self.data[k], self.data[k + 1]);
            let (c, d) = (self.data[k + self.width], self.data[k + self.width + 1]);
            let top = a + fx * (b - a);
            let bottom = c + fx * (d - c);
            return top + fy * (bottom - top);
        }
        let a = self.at(ix, iy);
        let b = self.at(ix + 1, iy);
        let c = self.at(ix, iy + 1);
        let d = self.at(ix + 1, iy + 1);
        let top = a + fx * (b - a);
        let bottom = c + fx * (d - c);
        top + fy * (bottom - top)
    }
}

/// Bilinear sample of a two-component field stored as `[f32; 2]` per pixel,
/// with the same rule as [`Plane::sample`].
#[inline]
pub(crate) fn sample_vec2(
    data: &[[f32; 2]],
    width: usize,
    height: usize,
    x: f32,
    y: f32,
) -> [f32; 2] {
    let x = x.clamp(-1.0, width as f32);
    let y = y.clamp(-1.0, height as f32);
    let fx0 = floor_f32(x);
    let fy0 = floor_f32(y);
    let (fx, fy) = (x - fx0, y - fy0);
    let (ix, iy) = (fx0 as isize, fy0 as isize);
    let at = |x: isize, y: isize| {
        let x = x.clamp(0, width as isize - 1) as usize;
        let y = y.clamp(0, height as isize - 1) as usize;
        data[y * width + x]
    };
    let a = at(ix, iy);
    let b = at(ix + 1, iy);
    let c = at(ix, iy + 1);
    let d = at(ix + 1, iy + 1);
    let mut out = [0.0; 2];
    for k in 0..2 {
        let top = a[k] + fx * (b[k] - a[k]);
        let bottom = c[k] + fx * (d[k] - c[k]);
        out[k] = top + fy * (bottom - top);
    }
    out
}

/// `floor` for `|x| < 2³¹`, without the libm call baseline x86-64 (no
/// SSE4.1 `roundps`) makes of `f32::floor`. Same result for every input in
/// range.
#[inline]
pub(crate) fn floor_f32(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x { t - 1.0 } else { t }
}

/// `(floor(x), floor(x) as i32)` for `|x| < 2²²` (a position clamped to a
/// plane: at most `MAX_DIMENSION` + 2 px) without a float → int
/// conversion: adding `1.5·2²³` rounds to an integer exactly and leaves it
/// in the mantissa bits, so the loops over lanes that use it vectorise.
/// Same result as [`floor_f32`] in that range.
#[inline(always)]
pub(crate) fn floor_small(x: f32) -> (f32, i32) {
    const MAGIC: f32 = 12_582_912.0;
    let shifted = x + MAGIC;
    let nearest = shifted - MAGIC;
    let n = shifted.to_bits() as i32 - MAGIC.to_bits() as i32;
    let above = nearest > x;
    (
        if above { nearest - 1.0 } else { nearest },
        n - i32::from(above),
    )
}

/// `row` extended by `left` copies of its first and `right` copies of its
/// last sample, so a horizontal filter can run without per-tap clamping.
pub(crate) fn padded_row(row: &[f32], left: usize, right: usize, out: &mut Vec<f32>) {
    out.clear();
    out.extend(std::iter::repeat_n(row[0], left));
    out.extend_from_slice(row);
    out.extend(std::iter::repeat_n(row[row.len() - 1], right));
}

/// The two bilinear taps and the weight of the second, along one axis, for
/// sampling position `pos` on a side of `len` pixels ([`Plane::sample`]'s
/// rule: the position is clamped to `[−1, len]`, the taps to `[0, len − 1]`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Taps {
    /// `clamp(floor(pos))`.
    pub i0: usize,
    /// `clamp(floor(pos) + 1)`.
    pub i1: usize,
    /// `pos − floor(pos)`.
    pub frac: f32,
}

impl Taps {
    /// Taps for one position.
    #[inline]
    pub fn new(pos: f32, len: usize) -> Self {
        let pos = pos.clamp(-1.0, len as f32);
        let fl = floor_f32(pos);
        let i = fl as isize;
        let last = len as isize - 1;
        Taps {
            i0: i.clamp(0, last) as usize,
            i1: (i + 1).clamp(0, last) as usize,
            frac: pos - fl,
        }
    }

    /// Taps for output pixels `0..out_len` of an upsampling by `scale`:
    /// output `i` samples the input at `(i + 0.5)/scale − 0.5`.
    pub fn upsampling(out_len: usize, in_len: usize, scale: f32) -> Vec<Taps> {
        (0..out_len)
            .map(|i| Taps::new((i as f32 + 0.5) / scale - 0.5, in_len))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_small_is_floor() {
        let mut x = -40_000.0f32;
        while x < 40_000.0 {
            for v in [x, x + 0.5, x + 0.25, x - 1e-3, x + 1e-3, -x] {
                let (f, i) = floor_small(v);
                assert_eq!(f, v.floor(), "{v}");
                assert_eq!(i, v.floor() as i32, "{v}");
                assert_eq!(f, floor_f32(v), "{v}");
            }
            x += 0.37;
        }
        for v in [0.0, -0.0, 0.999_999_9, -0.999_999_9, 32_769.0, -2.0, 1e-30] {
            assert_eq!(floor_small(v).0, v.floor(), "{v}");
        }
    }
}
