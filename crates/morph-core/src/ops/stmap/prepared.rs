//! An STMap prepared once and applied to a sequence of Fronts: the common
//! case of a static lens-distortion or re-projection map over a shot.
//!
//! For the filters with a fast path (Nearest, Linear, Mitchell-Netravali,
//! Catmull-Rom, on an RGBA Front without Matte or extra channels) the
//! preparation runs the fast path's first pass once — every pixel's Front
//! position, snapped cell, first tap and weights, 12 bytes a pixel — so a
//! frame only gathers its taps; [`PreparedStMap::apply_reusing`] also writes
//! into a recycled frame instead of a fresh, zeroed one. Every other case
//! runs as [`super::stmap`] does. Results are [`super::stmap`]'s, bit for bit
//! (tested for every filter, repeat and framing mode).
//!
//! The same idea as OpenCV's `convertMaps` before `remap`, without its
//! fixed-point rounding of positions to 1/32 px.

use crate::error::{Error, Result, Size};
use crate::image::Image;
#[cfg(test)]
use crate::params::StMapFilter;
use crate::params::StMapParams;

use super::framing::{Geometry, StMapFraming};
use super::{StMapOutput, fast, run};

/// An STMap and its attributes, prepared for Fronts of one [`Geometry`]
/// (size and windows). See the module docs.
#[derive(Debug)]
pub struct PreparedStMap<'a> {
    stmap: &'a Image,
    params: StMapParams,
    front: Geometry,
    framing: StMapFraming,
    /// One per STMap pixel for a filter with a fast path, else empty.
    taps: Vec<fast::Taps>,
}

impl<'a> PreparedStMap<'a> {
    /// Prepares `stmap` with `params` for Fronts of geometry `front`
    /// ([`Geometry::of`] the first frame): the framing, and for the filters
    /// with a fast path the taps of every pixel (parallel, about the cost of
    /// one frame's first pass; memory: 12 bytes a pixel, 25 MB at 1080p).
    ///
    /// # Errors
    /// As [`super::stmap`]: an invalid attribute, or an attribute data window
    /// not the STMap's size.
    pub fn new(front: Geometry, stmap: &'a Image, params: &StMapParams) -> Result<Self> {
        params.validate(stmap.width(), stmap.height())?;
        let framing = StMapFraming::from_geometry(&front, &Geometry::of(stmap), params)?;
        let taps = super::prepare_taps(front, stmap, params, &framing);
        Ok(PreparedStMap {
            stmap,
            params: *params,
            front,
            framing,
            taps,
        })
    }

    /// The STMap.
    pub fn stmap(&self) -> &'a Image {
        self.stmap
    }

    /// The attributes it was prepared with.
    pub fn params(&self) -> &StMapParams {
        &self.params
    }

    /// The Front geometry it was prepared for.
    pub fn front_geometry(&self) -> Geometry {
        self.front
    }

    /// Whether `front` can go through [`PreparedStMap::apply`]: its size is
    /// the prepared one and its windows give the same framing (they only
    /// matter with Use Data & Display Window). A sequence whose windows
    /// change needs a new preparation from such a frame on.
    pub fn fits(&self, front: &Image) -> bool {
        let g = Geometry::of(front);
        g.width == self.front.width
            && g.height == self.front.height
            && StMapFraming::from_geometry(&g, &Geometry::of(self.stmap), &self.params)
                .is_ok_and(|f| f == self.framing)
    }

    /// Whether `front` [fits](PreparedStMap::fits) and `matte`, if any, has
    /// its size: what [`PreparedStMap::apply`] checks first.
    ///
    /// # Errors
    /// [`Error::SizeMismatch`] naming the Front's or the Matte's size, and
    /// the windows prepared for.
    pub fn check(&self, front: &Image, matte: Option<&Image>) -> Result<()> {
        if !self.fits(front) {
            let g = Geometry::of(front);
            let p = self.front;
            return Err(Error::SizeMismatch {
                what: format!(
                    "Front (data window {}, display window {}) for an STMap prepared for \
                     data window {}, display window {}",
                    g.data_window, g.display_window, p.data_window, p.display_window
                ),
                actual: front.size(),
                expected: Size {
                    width: p.width,
                    height: p.height,
                },
            });
        }
        match matte {
            Some(m) => front.check_same_size(m, "Matte input"),
            None => Ok(()),
        }
    }

    /// Warps `front` (and `matte`): the output of [`super::stmap`] with the
    /// prepared STMap and attributes, bit for bit.
    ///
    /// # Errors
    /// A Front that does not [fit](PreparedStMap::fits), or a Matte not the
    /// Front's size.
    pub fn apply(&self, front: &Image, matte: Option<&Image>) -> Result<StMapOutput> {
        self.apply_reusing(front, matte, None)
    }

    /// [`PreparedStMap::apply`], writing the result's pixels into `recycled`
    /// (a finished frame of the sequence, whatever its contents) where the
    /// fast path runs: no allocation and no zero-fill per frame. Elsewhere
    /// `recycled` is dropped.
    ///
    /// # Errors
    /// As [`PreparedStMap::apply`].
    pub fn apply_reusing(
        &self,
        front: &Image,
        matte: Option<&Image>,
        recycled: Option<Image>,
    ) -> Result<StMapOutput> {
        self.check(front, matte)?;
        let taps = (!self.taps.is_empty()).then_some(&self.taps[..]);
        Ok(run(
            front,
            self.stmap,
            matte,
            &self.params,
            &self.framing,
            taps,
            recycled.map(Image::into_pixels),
        ))
    }

    /// The filter the taps were prepared for, when it has a fast path.
    #[cfg(test)]
    pub(super) fn prepared_filter(&self) -> Option<StMapFilter> {
        (!self.taps.is_empty()).then_some(self.params.filter_mode)
    }
}
