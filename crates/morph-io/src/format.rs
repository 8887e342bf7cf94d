//! Image file formats (filled by the formats work).
