//! Frame sequences (filled by the sequence work).
