//! Pass 0 (once per pair): vectors of occluded pixels replaced by the
//! background's.
//!
//! A pixel with no counterpart in the other frame (about to be covered, or
//! just revealed) has no data term, so the estimator fills its vector from
//! the neighbours, often from the occluder; splatted, such a vector drags
//! the occluder's colour into the background it uncovers. Its true motion
//! is the motion of the surface it belongs to, the one being covered or
//! uncovered: the *background* at that boundary.
//!
//! Per pixel `p` with occlusion above ½ whose vector stays inside the frame
//! (pixels leaving the frame keep theirs): along each of the 4 axis
//! directions `d` (E, N, W, S order: `(1,0), (0,−1), (−1,0), (0,1)`; the
//! diagonals too cost 80 % more time at 720p for 0.26 dB on the occlusion
//! case), the first pixel `n = p + k·d`, `k = 1..=R`,
//! with occlusion at most ½ is a candidate with vector `c = V(n)`. Two
//! frames cannot tell from the motion alone which neighbour the occluded
//! band belongs to (the covering and the covered surface approach each
//! other either way), but the band is visible in its own frame and shares
//! its surface's look, while the occluder's silhouette is an edge: the
//! candidate with the lowest cost wins (on a tie — costs within [`TIE`] —
//! the one whose look is closer, then the first in direction order). The
//! cost adds two luma differences (range-compressed luma `L`, coordinates
//! clamped to the frame): how unlike the candidate `p` looks
//! (`|mean of L over the 3×3 block at n − L(p)|`), and how badly the
//! candidate's vector carries `p` to the other frame (mean of `|L(q) −
//! L'(q + c)|` over the 3×3 block `q` around `p`, `L'` the other frame's
//! luma, bilinear). The second term settles the common case: pixels the
//! estimator only marked occluded because it smeared the occluder's motion
//! over them are visible in the other frame, and only their own surface's
//! vector matches them there. (A candidate whose vector lies within a
//! quarter pixel of an earlier candidate's reuses that one's second term.)
//! Such a pixel's occlusion is lowered to
//! `clamp((e − 0.03)/0.03, 0, 1)`, `e` the second term of the winner (if
//! lower than it was): its new vector is confirmed by the other frame.
//! `R = clamp(ceil(2·max|V|) + 2, 4, 64)`.
//! Reads the input field only, so the order of pixels does not matter.

use rayon::prelude::*;

use crate::flow::FlowField;

/// Occlusion above which a pixel's vector is replaced.
const OCCLUDED: f32 = 0.5;
/// Squared distance under which two candidates' vectors count as one for
/// the match term (a quarter pixel).
const SAME_VECTOR2: f32 = 0.0625;
/// Mean 3×3 luma difference up to which a replaced vector's match in the
/// other frame makes the pixel visible (its occlusion rises linearly to 1
/// at twice this).
const MATCHED: f32 = 0.03;
/// Cost difference under which two candidates tie (the one that looks more
/// like the pixel wins, then the first): exact ties are common on flat or
/// synthetic regions, and a GPU's division or fused multiply-add may round
/// a tied cost one ulp either way, which must not pick another vector than
/// the CPU does.
pub(crate) const TIE: f32 = 1e-5;

const DIRECTIONS: [(isize, isize); 4] = [(1, 0), (0, -1), (-1, 0), (0, 1)];

/// Search radius for a field: twice the largest motion plus two, 4..=64.
pub(crate) fn radius(field: &FlowField) -> usize {
    let max = field
        .vectors()
        .iter()
        .map(|v| (v[0] * v[0] + v[1] * v[1]).sqrt())
        .fold(0.0f32, |m, x| if x.is_finite() { m.max(x) } else { m });
    ((2.0 * max).ceil() as usize + 2).clamp(4, 64)
}

/// `field` with the vectors of occluded pixels replaced (see the module
/// docs); `occlusion` is the field's own occlusion map, `luma` its frame's
/// range-compressed luma and `other` the other frame's.
pub fn fill_occluded(
    field: &FlowField,
    occlusion: &[f32],
    luma: &[f32],
    other: &[f32],
) -> (FlowField, Vec<f32>) {
    let (w, h) = (field.width() as usize, field.height() as usize);
    let r = radius(field);
    let v = field.vectors();
    let mut out = v.to_vec();
    let mut occ = occlusion.to_vec();
    out.par_chunks_mut(w)
        .zip(occ.par_chunks_mut(w))
        .enumerate()
        .for_each(|(y, (row, orow))| {
            for (x, (o, oc)) in row.iter_mut().zip(orow.iter_mut()).enumerate() {
                let k = y * w + x;
                if occlusion[k] <= OCCLUDED {
                    continue;
                }
                let (tx, ty) = (x as f32 + v[k][0], y as f32 + v[k][1]);
                if !(tx >= -0.5 && ty >= -0.5 && tx < w as f32 - 0.5 && ty < h as f32 - 0.5) {
                    continue;
                }
                if let Some(c) = background_vector(v, occlusion, (luma, other), (x, y), (w, h), r) {
                    *o = c;
                    // Visible after all if the new vector matches the
                    // other frame.
                    let m = match_error(luma, other, (x, y), c, (w, h));
                    *oc = oc.min(((m - MATCHED) / MATCHED).clamp(0.0, 1.0));
                }
            }
        });
    (
        FlowField::from_vectors(w as u32, h as u32, out).expect("same size"),
        occ,
    )
}

/// The winning candidate's vector at `(x, y)`, if any candidate exists.
fn background_vector(
    v: &[[f32; 2]],
    occlusion: &[f32],
    (luma, other): (&[f32], &[f32]),
    (x, y): (usize, usize),
    (w, h): (usize, usize),
    r: usize,
) -> Option<[f32; 2]> {
    let here = luma[y * w + x];
    // (cost, look term, vector) of the best candidate so far.
    let mut best: Option<(f32, f32, [f32; 2])> = None;
    // Match errors already computed, by vector: candidates of one surface
    // share (nearly) one vector, so most pixels evaluate two or three.
    let mut seen: [([f32; 2], f32); 4] = [([0.0; 2], 0.0); 4];
    let mut seen_len = 0;
    for (dx, dy) in DIRECTIONS {
        for step in 1..=r as isize {
            let (nx, ny) = (x as isize + step * dx, y as isize + step * dy);
            if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                break;
            }
            let n = ny as usize * w + nx as usize;
            if occlusion[n] <= OCCLUDED {
                let look = (block_mean(luma, (nx, ny), (w, h)) - here).abs();
                let c = v[n];
                let near = |s: &([f32; 2], f32)| {
                    (s.0[0] - c[0]).powi(2) + (s.0[1] - c[1]).powi(2) < SAME_VECTOR2
                };
                let m = match seen[..seen_len].iter().find(|s| near(s)) {
                    Some(&(_, m)) => m,
                    None => {
                        let m = match_error(luma, other, (x, y), c, (w, h));
                        seen[seen_len] = (c, m);
                        seen_len += 1;
                        m
                    }
                };
                let d = look + m;
                if best.is_none_or(|(b, b_look, _)| {
                    d < b - TIE || (d <= b + TIE && look < b_look - TIE)
                }) {
                    best = Some((d, look, v[n]));
                }
                break;
            }
        }
    }
    best.map(|(_, _, c)| c)
}

/// Mean absolute luma difference between the 3×3 block around `(x, y)` in
/// this frame and the same block moved by `c` in the other frame (bilinear,
/// clamp to edge): small when `c` really carries the pixel to the other
/// frame, as it does for pixels the flow only smeared an occluder's motion
/// over.
fn match_error(
    luma: &[f32],
    other: &[f32],
    (x, y): (usize, usize),
    c: [f32; 2],
    (w, h): (usize, usize),
) -> f32 {
    let mut sum = 0.0;
    for dy in -1..=1isize {
        let yy = (y as isize + dy).clamp(0, h as isize - 1);
        for dx in -1..=1isize {
            let xx = (x as isize + dx).clamp(0, w as isize - 1);
            let here = luma[yy as usize * w + xx as usize];
            let there = super::sample_plane(other, w, h, xx as f32 + c[0], yy as f32 + c[1]);
            sum += (here - there).abs();
        }
    }
    sum / 9.0
}

/// Mean of the 3×3 block around `(x, y)`, coordinates clamped to the frame
/// (row by row, left to right).
fn block_mean(plane: &[f32], (x, y): (isize, isize), (w, h): (usize, usize)) -> f32 {
    let mut sum = 0.0;
    for yy in y - 1..=y + 1 {
        let row = yy.clamp(0, h as isize - 1) as usize * w;
        for xx in x - 1..=x + 1 {
            sum += plane[row + xx.clamp(0, w as isize - 1) as usize];
        }
    }
    sum / 9.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row: an occluder on the left moving right by 6 over a background
    /// moving left by 2; the pixels just right of the occluder (about to
    /// be covered) carry the occluder's vector, as a smooth estimator
    /// leaves them.
    #[test]
    fn covered_pixels_take_the_background_vector() {
        let (w, h) = (24u32, 3u32);
        let mut v = vec![[-2.0, 0.0]; (w * h) as usize];
        let mut occ = vec![0.0; (w * h) as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                let k = y * w as usize + x;
                if x < 8 {
                    v[k] = [6.0, 0.0];
                } else if x < 14 {
                    v[k] = [6.0, 0.0]; // wrong: should be the background's
                    occ[k] = 1.0;
                }
            }
        }
        // The band looks like the background (luma 0.2), not the occluder.
        let luma: Vec<f32> = (0..w * h)
            .map(|k| if k % w < 8 { 0.8 } else { 0.2 })
            .collect();
        let field = FlowField::from_vectors(w, h, v).unwrap();
        let (fixed, _) = fill_occluded(&field, &occ, &luma, &luma);
        for x in 8..14 {
            assert_eq!(fixed.at(x, 1), [-2.0, 0.0], "x={x}");
        }
        assert_eq!(fixed.at(3, 1), [6.0, 0.0]);
    }

    /// The same boundary seen from the other frame: revealed pixels left of
    /// the occluder, backward vectors (occluder −6, background +2).
    #[test]
    fn revealed_pixels_take_the_background_vector() {
        let (w, h) = (24u32, 3u32);
        let mut v = vec![[2.0, 0.0]; (w * h) as usize];
        let mut occ = vec![0.0; (w * h) as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                let k = y * w as usize + x;
                if x >= 14 {
                    v[k] = [-6.0, 0.0];
                } else if x >= 8 {
                    v[k] = [-6.0, 0.0];
                    occ[k] = 1.0;
                }
            }
        }
        let luma: Vec<f32> = (0..w * h)
            .map(|k| if k % w >= 14 { 0.8 } else { 0.2 })
            .collect();
        let field = FlowField::from_vectors(w, h, v).unwrap();
        let (fixed, _) = fill_occluded(&field, &occ, &luma, &luma);
        for x in 8..14 {
            assert_eq!(fixed.at(x, 1), [2.0, 0.0], "x={x}");
        }
    }

    #[test]
    fn pixels_leaving_the_frame_keep_their_vector() {
        let field =
            FlowField::from_vectors(4, 1, vec![[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
                .unwrap();
        let (fixed, _) = fill_occluded(&field, &[0.0, 0.0, 0.0, 1.0], &[0.0; 4], &[0.0; 4]);
        assert_eq!(fixed.at(3, 0), [3.0, 0.0]);
    }
}
