//! Pass 7b: after the variational refinement of a level coarser than the
//! analysis resolution, each pixel keeps the densified vector (pass 6)
//! where it explains the frames clearly better than the refined one.
//!
//! Why: at coarse levels a small object is a few pixels across, and the
//! refinement's smoothness term (its cost grows with the object's outline,
//! the data term's gain with its area) smooths it into the background,
//! although the inverse search had found it. Measured on the dev VM
//! (`benches/interp_compare.py`, 720p, 2026-11-23), on the six scenes
//! `objects1`–`objects6` (3–5 disks moving 10–35 px over a moving
//! background): 28.81 / 29.09 dB at 1/4 / 1/2 analysis before, the disks'
//! flow 13–35 px off; 33.66 / 34.89 dB with this pass (OpenCV DIS-medium
//! 35.69 dB). On the older cases: layers +1.15 / +2.0 dB, brightness
//! −0.66 / −0.54 dB, the rest within 0.25 dB. The flow's mean EPE over
//! `benches/flow_compare.py`'s eight cases rose from 0.211 / 0.132 px to
//! 0.259 / 0.181 px (DIS-medium 0.393), mostly at the 61-px pan (0.166 →
//! 0.333 px at 1/4). Cost: a one-way 1080p flow 92.5 → 89.3 ms at 1/4 and
//! 152.9 → 159.1 ms at 1/2 (min of 4 × 5 runs, old and new interleaved).
//! Tried first: no refinement at coarse levels (found the disks, but the
//! pan's EPE went to 0.73 px), a smoothness weight halved at each coarser
//! level (kept the larger disks only; the layers case lost 0.5 dB).
//!
//! The test, per pixel `p`: `E(u) = Σ |B(q + u(q)) − A(q)|` over the 5×5
//! window `q` around `p` (rows then columns from the top left, positions
//! clamped to the level; `A`, `B` the levels' normalised images; the term is
//! densification's, [`super::dis::densify`], sampled the same way); the
//! densified field `d` replaces the refined field `r` at `p` when `E(d) <`
//! [`SELECT_RATIO`]` · E(r)`.

use rayon::prelude::*;

use crate::flow::FlowField;

use super::plane::{Plane, floor_f32};

/// How much better (smaller window error) the densified vector must be to
/// replace the refined one. 1.0 swapped in noisy patch vectors on flat
/// texture; 0.8 keeps the refined field unless the patches clearly win.
pub const SELECT_RATIO: f32 = 0.8;

/// Radius of the window the errors are summed over (5×5).
pub const SELECT_RADIUS: usize = 2;

/// `|B(x + u) − A(x)|` at pixel `(x, y)`: densification's term.
#[inline]
fn warp_error(i0: &Plane, i1: &Plane, x: usize, y: usize, u: [f32; 2]) -> f32 {
    let (w, h) = (i0.width as f32, i0.height as f32);
    let ux = u[0].clamp(-w - 1.0, w + 1.0);
    let uy = u[1].clamp(-h - 1.0, h + 1.0);
    let (flx, fly) = (floor_f32(ux), floor_f32(uy));
    let (ix, iy) = (x as isize + flx as isize, y as isize + fly as isize);
    let (fx, fy) = (ux - flx, uy - fly);
    let top = i1.at(ix, iy) + fx * (i1.at(ix + 1, iy) - i1.at(ix, iy));
    let bottom = i1.at(ix, iy + 1) + fx * (i1.at(ix + 1, iy + 1) - i1.at(ix, iy + 1));
    (top + fy * (bottom - top) - i0.data[y * i0.width + x]).abs()
}

/// The per-pixel error of `flow` over the level.
fn errors(i0: &Plane, i1: &Plane, flow: &FlowField) -> Vec<f32> {
    let w = i0.width;
    let mut e = vec![0.0; w * i0.height];
    e.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let vectors = &flow.vectors()[y * w..(y + 1) * w];
        for (x, (o, &u)) in row.iter_mut().zip(vectors).enumerate() {
            *o = warp_error(i0, i1, x, y, u);
        }
    });
    e
}

/// The 5×5 window sum at `(x, y)` of per-pixel errors `e`, in the order of
/// the module docs.
#[inline]
fn window(e: &[f32], w: usize, h: usize, x: usize, y: usize) -> f32 {
    let r = SELECT_RADIUS as isize;
    let mut sum = 0.0;
    for dy in -r..=r {
        let qy = (y as isize + dy).clamp(0, h as isize - 1) as usize;
        for dx in -r..=r {
            let qx = (x as isize + dx).clamp(0, w as isize - 1) as usize;
            sum += e[qy * w + qx];
        }
    }
    sum
}

/// Pass 7b: `refined` takes `densified`'s vector wherever that one's window
/// error is below [`SELECT_RATIO`] times its own. `i0`, `i1`: the level's
/// normalised images of the two frames.
pub(crate) fn keep_better(i0: &Plane, i1: &Plane, densified: &FlowField, refined: &mut FlowField) {
    let (w, h) = (i0.width, i0.height);
    let ed = errors(i0, i1, densified);
    let er = errors(i0, i1, refined);
    refined
        .vectors_mut()
        .par_chunks_mut(w)
        .zip(densified.vectors().par_chunks(w))
        .enumerate()
        .for_each(|(y, (out, dense))| {
            for (x, (o, &d)) in out.iter_mut().zip(dense).enumerate() {
                if window(&ed, w, h, x, y) < SELECT_RATIO * window(&er, w, h, x, y) {
                    *o = d;
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> Plane {
        Plane::from_vec(
            w,
            h,
            (0..w * h).map(|i| f(i % w, i / w)).collect::<Vec<_>>(),
        )
    }

    /// A texture shifted by 3 px: the densified field that has the shift
    /// wins where the refined one is off, and loses where it is wrong.
    #[test]
    fn the_field_that_explains_the_frames_is_kept() {
        let (w, h) = (24, 20);
        let tex = |x: f32, y: f32| (0.7 * x).sin() + (0.45 * y + 0.3 * x).cos();
        let a = plane(w, h, |x, y| tex(x as f32, y as f32));
        let b = plane(w, h, |x, y| tex(x as f32 - 3.0, y as f32));
        let field = |u: [f32; 2]| {
            let mut f = FlowField::zeros(w as u32, h as u32);
            f.vectors_mut().fill(u);
            f
        };
        let mut refined = field([0.5, 0.0]);
        keep_better(&a, &b, &field([3.0, 0.0]), &mut refined);
        // Away from the right edge (where B's clamped edge spoils both).
        for y in 0..h {
            for x in 0..w - 8 {
                assert_eq!(refined.vectors()[y * w + x], [3.0, 0.0], "({x}, {y})");
            }
        }
        let mut right = field([3.0, 0.0]);
        keep_better(&a, &b, &field([0.5, 0.0]), &mut right);
        assert!(right.vectors().iter().all(|&v| v == [3.0, 0.0]));
    }
}
