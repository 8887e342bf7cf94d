//! Frame sequences: file-name patterns, frame ranges, finding the frames on
//! disk, and planning which file feeds which frame.
//!
//! The parsers are written by hand: no crate covers `#`, `@`, `%0Nd`, `$FN`
//! and `x` steps together (STYLE.md, Dependencies).
//!
//! # Patterns ([`Pattern`])
//!
//! | token        | padding            | frame 7      | frame -7     |
//! |--------------|--------------------|--------------|--------------|
//! | `####`       | one digit per `#`  | `0007`       | `-007`       |
//! | `@@@`        | one digit per `@`  | `007`        | `-07`        |
//! | `%04d`       | 4; `%d` = none     | `0007`       | `-007`       |
//! | `$F4`, `${F4}` | 4; `$F` = none   | `0007`       | `-007`       |
//!
//! - Only the **last** token of the file name is the frame number; earlier
//!   token-like text is literal, and the directory never holds a token.
//! - **Negative frames** follow `printf("%0Nd")` (and Nuke, Houdini, Python's
//!   `zfill`, fileseq): the padding is the width of the whole number *sign
//!   included*, so `-1` with four digits of padding is `-001`.
//! - Frames too wide for the padding are written in full (`12345` for
//!   `####`). A file matches a pattern only when its number is written
//!   exactly as [`Pattern::path`] would write it: `####` matches `0042`,
//!   `12345` and `-001`, never `42`, `00042` or `-0001`; an unpadded pattern
//!   matches numbers without leading zeros.
//! - `%%` is a literal `%`; any other `%` must start `%d` or `%0Nd`.
//! - A name without a token is a single file ([`Pattern::is_single_file`]):
//!   it stands for every frame, and on its own it is the one frame
//!   [`SINGLE_FILE_FRAME`].
//!
//! # Frame ranges ([`FrameRange`])
//!
//! Comma-separated items, each `N`, `A-B` or `A-BxS`: `1001-1100`,
//! `1001-1100x2`, `1,5,10-20`, `-10--1`, `-5-5`.
//!
//! - **Descending** ranges are supported and kept in order: `20-10x5` is
//!   20, 15, 10. The step is always positive; the direction comes from the
//!   bounds.
//! - A step need not land on the last frame: `1-10x4` is 1, 5, 9.
//! - **Duplicates** are dropped, keeping the first occurrence and the order
//!   given (like Nuke): `1-5,3-8` is 1..=8 once each, so no output frame is
//!   rendered twice.
//! - Step 0, empty items and more than [`MAX_FRAMES`] frames are errors.
//!
//! # Discovery and missing frames
//!
//! [`discover`] reads the pattern's directory once; [`resolve`] and [`plan`]
//! apply a [`MissingPolicy`] to the frames asked for; [`check_output`]
//! refuses to write several frames into a single file.

mod discover;
mod pattern;
mod range;

pub use discover::{FrameSource, MissingPolicy, check_output, discover, plan, resolve};
pub use pattern::{MAX_PADDING, Pattern, SINGLE_FILE_FRAME};
pub use range::{FrameRange, MAX_FRAMES};
