//! Splitting a frame into overlapping tiles and feathering them back.
//!
//! A frame whose padded size is within the pixel budget runs as one tile
//! (padded on the right and bottom by repeating the edge, then cropped: the
//! result is exactly the untiled one). A larger frame is cut into tiles of
//! one size (so one ONNX Runtime session serves them all), each a multiple
//! of the model's padding, at most `budget` pixels, placed on a grid with
//! stride `tile − overlap`; the last tile of a row or column is aligned to
//! the frame's edge. Each tile's output is weighted by a linear ramp over
//! `overlap` pixels on every side that borders another tile (weight 1 on the
//! frame's own edges) and the weighted sum is divided by the sum of weights,
//! so seams fade over the overlap instead of showing as steps.
//!
//! A flow network sees a neighbourhood around each pixel (its receptive
//! field, and the motion it can follow), so a tile's pixels near a cut edge
//! differ a little from the untiled result; the overlap hides that region.
//! It must be larger than the largest motion the model follows (the shipped
//! model was trained on motions up to 24 px): the default is 64 px.

use crate::MlError;

/// Where the tiles of one frame lie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TilePlan {
    /// Width of every tile (a multiple of the model's padding).
    pub tile_width: u32,
    /// Height of every tile.
    pub tile_height: u32,
    /// Left edges of the tile columns, ascending.
    pub xs: Vec<u32>,
    /// Top edges of the tile rows, ascending.
    pub ys: Vec<u32>,
    /// Width of the feathering ramp, in pixels.
    pub overlap: u32,
}

impl TilePlan {
    /// Number of tiles.
    pub fn len(&self) -> usize {
        self.xs.len() * self.ys.len()
    }

    /// Whether the plan has no tiles (never, for a valid frame).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn round_up(v: u32, multiple: u32) -> u32 {
    v.div_ceil(multiple) * multiple
}

/// Tile origins along one axis of `size` pixels for tiles of `tile`.
fn positions(size: u32, tile: u32, overlap: u32) -> Vec<u32> {
    if tile >= size {
        return vec![0];
    }
    let stride = tile - overlap;
    let mut out = Vec::new();
    let mut p = 0u32;
    while p + tile < size {
        out.push(p);
        p += stride;
    }
    out.push(size - tile);
    out
}

/// Plans the tiles of a `width × height` frame.
///
/// `multiple` is the model's padding, `budget` the most pixels one tile may
/// have, `fixed` a model's fixed input size (then every tile has that size).
pub fn plan(
    width: u32,
    height: u32,
    multiple: u32,
    budget: u64,
    overlap: u32,
    fixed: Option<(u32, u32)>,
) -> Result<TilePlan, MlError> {
    let multiple = multiple.max(1);
    let padded_w = round_up(width, multiple);
    let padded_h = round_up(height, multiple);
    let (tile_width, tile_height) = if let Some((fw, fh)) = fixed {
        (fw, fh)
    } else if padded_w as u64 * padded_h as u64 <= budget {
        (padded_w, padded_h)
    } else {
        let min_side = round_up(2 * overlap + multiple, multiple);
        let side = ((budget as f64).sqrt() as u32 / multiple) * multiple;
        if side < min_side {
            return Err(MlError::Parameter {
                attribute: "tile_budget_pixels",
                value: budget.to_string(),
                allowed: format!(
                    "at least {} ({min_side}x{min_side}: tiles must be wider than twice the \
                     {overlap}-px overlap plus the model's {multiple}-px padding)",
                    min_side as u64 * min_side as u64
                ),
            });
        }
        let tw = side.min(padded_w);
        let th = (((budget / tw as u64) as u32 / multiple) * multiple).min(padded_h);
        (tw, th)
    };
    // A tile that does not cover its axis must leave room for the ramp.
    let axis_ok = |size: u32, tile: u32| tile >= size || tile > 2 * overlap;
    if !axis_ok(width, tile_width) || !axis_ok(height, tile_height) {
        return Err(MlError::Parameter {
            attribute: "tile_overlap",
            value: overlap.to_string(),
            allowed: format!("less than half the tile size ({tile_width}x{tile_height})"),
        });
    }
    Ok(TilePlan {
        tile_width,
        tile_height,
        xs: positions(width, tile_width, overlap),
        ys: positions(height, tile_height, overlap),
        overlap,
    })
}

/// Feathering weight of tile-local coordinate `i` along an axis of `size`
/// pixels, for a tile at `origin` of length `tile`: 1 on the frame's own
/// edges, a linear ramp over `overlap` pixels where another tile continues.
pub fn ramp(i: u32, origin: u32, tile: u32, size: u32, overlap: u32) -> f32 {
    let overlap = overlap.max(1) as f32;
    let x = (origin + i) as f32 + 0.5;
    let left = if origin == 0 {
        1.0
    } else {
        (x - origin as f32) / overlap
    };
    let right = if origin + tile >= size {
        1.0
    } else {
        ((origin + tile) as f32 - x) / overlap
    };
    left.min(right).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_frames_are_one_padded_tile() {
        let p = plan(67, 45, 32, 1 << 20, 64, None).unwrap();
        assert_eq!((p.tile_width, p.tile_height), (96, 64));
        assert_eq!((p.xs.clone(), p.ys.clone()), (vec![0], vec![0]));
    }

    #[test]
    fn large_frames_tile_within_budget_and_cover_everything() {
        let (w, h) = (3840u32, 2160u32);
        let budget = 1u64 << 20;
        let p = plan(w, h, 32, budget, 64, None).unwrap();
        assert!(p.tile_width as u64 * p.tile_height as u64 <= budget);
        assert_eq!(p.tile_width % 32, 0);
        assert_eq!(p.tile_height % 32, 0);
        for (size, tile, origins) in [(w, p.tile_width, &p.xs), (h, p.tile_height, &p.ys)] {
            assert_eq!(origins[0], 0);
            assert_eq!(*origins.last().unwrap() + tile, size);
            for pair in origins.windows(2) {
                // Neighbours overlap by at least the ramp's width.
                assert!(pair[0] + tile >= pair[1] + 64, "{pair:?}");
            }
            // Every pixel has a positive total weight.
            for x in 0..size {
                let total: f32 = origins
                    .iter()
                    .filter(|&&o| x >= o && x < o + tile)
                    .map(|&o| ramp(x - o, o, tile, size, 64))
                    .sum();
                assert!(total > 0.1, "pixel {x} weight {total}");
            }
        }
    }

    #[test]
    fn too_small_a_budget_is_refused_with_the_minimum() {
        let e = plan(4000, 4000, 32, 1000, 64, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tile_budget_pixels = 1000"), "{e}");
        assert!(e.contains("at least 25600"), "{e}");
    }

    #[test]
    fn ramp_is_one_at_frame_edges() {
        assert_eq!(ramp(0, 0, 128, 300, 64), 1.0);
        assert_eq!(ramp(127, 172, 128, 300, 64), 1.0);
        assert!(ramp(0, 100, 128, 300, 64) < 0.01);
        assert!(ramp(127, 0, 128, 300, 64) < 0.01);
    }
}
