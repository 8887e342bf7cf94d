//! The EXR writer's ZIP and ZIPS compression, through zlib-rs.
//!
//! `exr` compresses ZIP blocks with miniz_oxide; on the dev VM that was 70 %
//! of a `morph-render` frame's CPU time (a 1080p half RGB frame: 260 ms of
//! deflate on one thread, against 15–30 ms for most ops). zlib-rs at the same
//! level (4, `exr`'s) deflates the same blocks in 134–149 ms, 2 % smaller.
//! Everything else is `exr`'s: the headers, each block's uncompressed bytes,
//! the chunk table; only the compression of each block is done here, on the
//! rayon pool, with OpenEXR's ZIP transform (ImfZip.cpp): bytes split into
//! even and odd halves, then each byte stored as its difference from the
//! previous one plus 128, then zlib. A block that does not shrink is stored
//! raw, as OpenEXR and `exr` do.

use std::io::{Seek, Write};

use exr::block::chunk::{Chunk, CompressedBlock, CompressedScanLineBlock};
use exr::block::writer::ChunksWriter;
use exr::image::write::layers::{LayersWriter, WritableLayers};
use exr::image::{Blocks, Image};
use exr::meta::MetaData;
use exr::meta::attribute::LineOrder;
use exr::prelude::Compression;
use rayon::prelude::*;

/// The deflate level: `exr`'s (and OpenEXR's default ZIP level).
const LEVEL: u32 = 4;

/// Whether [`write`] handles an image of these layers: one scan-line part
/// compressed with ZIP or ZIPS, in increasing line order, on a little-endian
/// machine (the blocks `exr` hands over are in native byte order, which the
/// file's is only there).
pub(super) fn handles(compression: Compression, blocks: Blocks, order: LineOrder) -> bool {
    matches!(compression, Compression::ZIP1 | Compression::ZIP16)
        && blocks == Blocks::ScanLines
        && order == LineOrder::Increasing
        && cfg!(target_endian = "little")
}

/// Writes `image` as `exr`'s `image.write().to_buffered(w)` would, with the
/// blocks compressed here. Only for images [`handles`] accepts.
pub(super) fn write<'i, L>(image: &'i Image<L>, w: impl Write + Seek) -> exr::error::UnitResult
where
    L: WritableLayers<'i>,
{
    let headers = image.layer_data.infer_headers(&image.attributes);
    let layers = image.layer_data.create_writer(&headers);
    exr::block::write(w, headers, true, |meta: MetaData, chunks| {
        let order: Vec<_> = meta.enumerate_ordered_header_block_indices().collect();
        let compressed = order
            .par_iter()
            .map(|&(_, block)| {
                let header = &meta.headers[block.layer];
                let raw = layers.extract_uncompressed_block(&meta.headers, block);
                let y = i32::try_from(block.pixel_position.y())
                    .map_err(|_| exr::error::Error::Invalid("block position beyond i32".into()))?
                    + header.own_attributes.layer_position.y();
                Ok(Chunk {
                    layer_index: block.layer,
                    compressed_block: CompressedBlock::ScanLine(CompressedScanLineBlock {
                        y_coordinate: y,
                        compressed_pixels_le: compress(raw),
                    }),
                })
            })
            .collect::<exr::error::Result<Vec<_>>>()?;
        for ((index, _), chunk) in order.into_iter().zip(compressed) {
            chunks.write_chunk(index, chunk)?;
        }
        Ok(())
    })
}

/// One block's bytes (little-endian samples) as OpenEXR's ZIP stores them;
/// the bytes themselves if that is not smaller.
fn compress(raw: Vec<u8>) -> Vec<u8> {
    let packed = predict(&split_halves(&raw));
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(raw.len() / 2),
        flate2::Compression::new(LEVEL),
    );
    // Writing into a Vec cannot fail.
    let zipped = encoder
        .write_all(&packed)
        .and_then(|()| encoder.finish())
        .expect("deflate into memory");
    if zipped.len() < raw.len() {
        zipped
    } else {
        raw
    }
}

/// The even-indexed bytes, then the odd-indexed ones (OpenEXR's
/// interleaving of the low and high bytes of each sample).
fn split_halves(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend(raw.iter().step_by(2));
    out.extend(raw.iter().skip(1).step_by(2));
    out
}

/// Each byte as its difference from the one before, plus 128 (the first
/// kept as is).
fn predict(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend(bytes.first());
    out.extend(
        bytes
            .windows(2)
            .map(|p| p[1].wrapping_sub(p[0]).wrapping_add(128)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenEXR's reconstruction (ImfZip.cpp's uncompress): running sums,
    /// then the halves interleaved.
    fn unpredict(packed: &[u8]) -> Vec<u8> {
        let mut sums = packed.to_vec();
        for i in 1..sums.len() {
            sums[i] = sums[i - 1].wrapping_add(sums[i]).wrapping_sub(128);
        }
        let half = sums.len().div_ceil(2);
        (0..sums.len())
            .map(|i| {
                if i % 2 == 0 {
                    sums[i / 2]
                } else {
                    sums[half + i / 2]
                }
            })
            .collect()
    }

    #[test]
    fn the_transform_is_openexrs_and_undoes() {
        assert_eq!(split_halves(&[1, 2, 3, 4, 5]), [1, 3, 5, 2, 4]);
        assert_eq!(predict(&[10, 12, 9, 9]), [10, 130, 125, 128]);
        for n in [0, 1, 2, 7, 64, 1001] {
            let raw: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
            assert_eq!(unpredict(&predict(&split_halves(&raw))), raw, "{n} bytes");
        }
    }

    #[test]
    fn a_block_that_does_not_shrink_is_stored_raw() {
        // Bytes from an LCG: deflate cannot shrink them.
        let mut x = 12345u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        assert_eq!(compress(noise.clone()), noise);
        let flat = vec![7u8; 4096];
        assert!(compress(flat).len() < 100);
    }
}
