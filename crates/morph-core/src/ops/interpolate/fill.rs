//! Pass 2: holes in the splatted motion filled from a push–pull pyramid.

use rayon::prelude::*;

use super::splat::Splat;
use crate::flow::FlowField;

/// One pyramid level: vectors and whether each is known.
struct Level {
    w: usize,
    h: usize,
    v: Vec<[f32; 2]>,
    known: Vec<bool>,
}

/// The splatted vectors with every pixel no source reached filled.
///
/// Push: level `l + 1` (`ceil` half size) holds, per cell, the mean of its
/// up to 2×2 known children (in row-major order), known if any child is.
/// Pull, from the coarsest level down: an unknown pixel takes its parent's
/// value (`(x/2, y/2)`). The coarsest level is 1×1; if nothing at all was
/// reached the field is zero.
pub fn fill(splat: &Splat) -> FlowField {
    let (w, h) = (splat.width, splat.height);
    let mut levels = vec![Level {
        w,
        h,
        v: splat
            .vectors
            .iter()
            .zip(&splat.reached)
            .map(|(&v, &r)| if r { v } else { [0.0; 2] })
            .collect(),
        known: splat.reached.clone(),
    }];
    if splat.reached.iter().all(|&r| r) {
        return into_field(levels.pop().expect("one level"));
    }
    while {
        let top = levels.last().expect("one level");
        top.w > 1 || top.h > 1
    } {
        let next = push(levels.last().expect("one level"));
        levels.push(next);
    }
    for l in (0..levels.len() - 1).rev() {
        let (fine, coarse) = levels.split_at_mut(l + 1);
        let (fine, coarse) = (&mut fine[l], &coarse[0]);
        let fw = fine.w;
        fine.v
            .par_chunks_mut(fw)
            .zip(fine.known.par_chunks_mut(fw))
            .enumerate()
            .for_each(|(y, (row, known))| {
                for x in 0..fw {
                    if !known[x] {
                        let p = (y / 2) * coarse.w + x / 2;
                        if coarse.known[p] {
                            row[x] = coarse.v[p];
                            known[x] = true;
                        }
                    }
                }
            });
    }
    into_field(levels.swap_remove(0))
}

fn push(fine: &Level) -> Level {
    let (w, h) = (fine.w.div_ceil(2), fine.h.div_ceil(2));
    let mut v = vec![[0.0f32; 2]; w * h];
    let mut known = vec![false; w * h];
    v.par_chunks_mut(w)
        .zip(known.par_chunks_mut(w))
        .enumerate()
        .for_each(|(y, (row, krow))| {
            for x in 0..w {
                let (mut sum, mut count) = ([0.0f32; 2], 0u32);
                for yy in 2 * y..(2 * y + 2).min(fine.h) {
                    for xx in 2 * x..(2 * x + 2).min(fine.w) {
                        let k = yy * fine.w + xx;
                        if fine.known[k] {
                            sum[0] += fine.v[k][0];
                            sum[1] += fine.v[k][1];
                            count += 1;
                        }
                    }
                }
                if count > 0 {
                    row[x] = [sum[0] / count as f32, sum[1] / count as f32];
                    krow[x] = true;
                }
            }
        });
    Level { w, h, v, known }
}

fn into_field(level: Level) -> FlowField {
    FlowField::from_vectors(level.w as u32, level.h as u32, level.v)
        .expect("a level of a valid field is valid")
}
