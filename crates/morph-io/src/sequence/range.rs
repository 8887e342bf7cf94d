//! Frame ranges: `1001-1100`, `1001-1100x2`, `1,5,10-20`, `-10--1`.
//!
//! The grammar and the conventions (descending ranges, duplicates) are in
//! the [`sequence`](super) module documentation.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use crate::error::{IoError, Result};

/// The most frames a range may hold (about 11.5 hours at 24 fps); a larger
/// one is a typo, and would only fill memory.
pub const MAX_FRAMES: usize = 1_000_000;

/// What a frame range looks like, for error messages.
const EXPECTED: &str = "expected frames like 1001, 1001-1100, 1001-1100x2 or 1,5,10-20";

/// One comma-separated item: `start`, `start-end` or `start-endxstep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Span {
    start: i64,
    end: i64,
    /// Always at least 1; the direction comes from `start` and `end`. Set to
    /// 1 for a single frame, so equal spans compare equal.
    step: u64,
}

impl Span {
    /// How many frames the span holds (at least 1).
    fn count(&self) -> u128 {
        u128::from(self.start.abs_diff(self.end) / self.step) + 1
    }

    /// The frames, in order.
    fn frames(self) -> impl Iterator<Item = i64> {
        let step = if self.start <= self.end {
            i128::from(self.step)
        } else {
            -i128::from(self.step)
        };
        (0..self.count()).map(move |k| {
            let frame = i128::from(self.start) + step * k as i128;
            i64::try_from(frame).expect("a span's frames lie between its bounds")
        })
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else if self.step == 1 {
            write!(f, "{}-{}", self.start, self.end)
        } else {
            write!(f, "{}-{}x{}", self.start, self.end, self.step)
        }
    }
}

/// A list of frames: `1001-1100`, `1001-1100x2` (every 2nd frame),
/// `1,5,10-20`, `-10--1`, `-5-5`, `1001`.
///
/// Never empty. Frames keep the order given; descending ranges (`20-10`) run
/// backwards; a frame given twice is kept only the first time.
///
/// ```
/// use morph_io::sequence::FrameRange;
/// let r = FrameRange::parse("1,5,10-20x5").unwrap();
/// assert_eq!(r.frames(), [1, 5, 10, 15, 20]);
/// assert_eq!(r.to_string(), "1,5,10-20x5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FrameRange {
    /// The items, as parsed; [`Display`](fmt::Display) writes them back.
    spans: Vec<Span>,
    /// The frames, expanded once, duplicates removed.
    frames: Vec<i64>,
}

impl FrameRange {
    /// Parses a frame range. Spaces around items are allowed. Fails with
    /// [`IoError::Syntax`] for empty input or items, a missing bound (`1-`),
    /// a step without a range (`5x2`), step 0, numbers outside `i64`, or
    /// more than [`MAX_FRAMES`] frames.
    pub fn parse(s: &str) -> Result<FrameRange> {
        let err = |message: String| IoError::Syntax {
            what: "frame range",
            input: s.to_owned(),
            message,
        };
        if s.trim().is_empty() {
            return Err(err(format!("empty; {EXPECTED}")));
        }
        let items: Vec<&str> = s.split(',').map(str::trim).collect();
        let mut spans = Vec::with_capacity(items.len());
        let mut total = 0u128;
        for item in &items {
            let span = parse_span(item).map_err(|message| {
                if items.len() == 1 || item.is_empty() {
                    err(format!("{message}; {EXPECTED}"))
                } else {
                    err(format!("in '{item}': {message}; {EXPECTED}"))
                }
            })?;
            total += span.count();
            if total > MAX_FRAMES as u128 {
                return Err(err(format!(
                    "more than {MAX_FRAMES} frames; expected at most that many, \
                     so split the render into smaller ranges"
                )));
            }
            spans.push(span);
        }
        Ok(FrameRange::from_spans(spans))
    }

    /// The shortest range this module writes for a list of frames: runs of
    /// three or more evenly spaced frames become `A-B` or `A-BxS`, the rest
    /// stay single. Duplicates are dropped (first kept). `None` when
    /// `frames` is empty. `from_frames(f).frames()` is `f` without
    /// duplicates.
    ///
    /// ```
    /// use morph_io::sequence::FrameRange;
    /// let r = FrameRange::from_frames(&[1, 2, 3, 4, 10, 20, 30, 7]).unwrap();
    /// assert_eq!(r.to_string(), "1-4,10-30x10,7");
    /// ```
    pub fn from_frames(frames: &[i64]) -> Option<FrameRange> {
        let frames = dedup(frames.iter().copied());
        if frames.is_empty() {
            return None;
        }
        let mut spans = Vec::new();
        let mut i = 0;
        while i < frames.len() {
            let gap = |j: usize| i128::from(frames[j + 1]) - i128::from(frames[j]);
            let mut j = i;
            if i + 1 < frames.len() {
                let step = gap(i);
                while j + 1 < frames.len() && gap(j) == step {
                    j += 1;
                }
            }
            if j >= i + 2 {
                spans.push(Span {
                    start: frames[i],
                    end: frames[j],
                    step: frames[i].abs_diff(frames[i + 1]),
                });
                i = j + 1;
            } else {
                spans.push(Span {
                    start: frames[i],
                    end: frames[i],
                    step: 1,
                });
                i += 1;
            }
        }
        Some(FrameRange { spans, frames })
    }

    /// Expands spans once, dropping duplicates.
    fn from_spans(spans: Vec<Span>) -> FrameRange {
        let frames = dedup(spans.iter().flat_map(|s| s.frames()));
        FrameRange { spans, frames }
    }

    /// The frames, in the order given, each once.
    pub fn frames(&self) -> Vec<i64> {
        self.frames.clone()
    }

    /// The frames, borrowed.
    pub fn as_slice(&self) -> &[i64] {
        &self.frames
    }

    /// The first frame in order (not the smallest, for a descending range).
    pub fn first(&self) -> i64 {
        self.frames[0]
    }

    /// The last frame in order (not the largest, for a descending range).
    pub fn last(&self) -> i64 {
        self.frames[self.frames.len() - 1]
    }

    /// How many distinct frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Always `false`: a range holds one frame at least. Here for symmetry
    /// with [`len`](Self::len).
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

impl fmt::Display for FrameRange {
    /// Writes the items back (`1-10x1` as `1-10`, `5-5` as `5`); parsing the
    /// result gives an equal range.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, span) in self.spans.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{span}")?;
        }
        Ok(())
    }
}

impl FromStr for FrameRange {
    type Err = IoError;

    fn from_str(s: &str) -> Result<FrameRange> {
        FrameRange::parse(s)
    }
}

/// The frames without repeats, first occurrence kept.
fn dedup(frames: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut seen = HashSet::new();
    frames.filter(|&f| seen.insert(f)).collect()
}

/// Parses one trimmed item. The error is a message for [`IoError::Syntax`].
fn parse_span(item: &str) -> std::result::Result<Span, String> {
    if item.is_empty() {
        return Err("an empty item (two commas in a row, or one at an end)".to_owned());
    }
    let mut rest = item;
    let start = number(&mut rest, "a frame number")?;
    let (end, step) = match rest.as_bytes().first() {
        None => (start, 1),
        Some(b'x') => {
            return Err(format!(
                "a step needs a range: write {start}-ENDx{}",
                &rest[1..]
            ));
        }
        Some(b'-') => {
            rest = &rest[1..];
            if rest.is_empty() {
                return Err("no last frame after the '-'".to_owned());
            }
            let end = number(&mut rest, "the last frame after '-'")?;
            let step = match rest.strip_prefix('x') {
                None => 1,
                Some(s) => {
                    rest = s;
                    step(&mut rest)?
                }
            };
            (end, step)
        }
        Some(_) => return Err(unexpected(rest)),
    };
    if !rest.is_empty() {
        return Err(unexpected(rest));
    }
    Ok(Span {
        start,
        end,
        step: if start == end { 1 } else { step },
    })
}

/// The message for text left over where none was expected.
fn unexpected(rest: &str) -> String {
    format!("unexpected '{rest}'")
}

/// Takes an optionally negative decimal number off the front of `rest`.
fn number(rest: &mut &str, what: &str) -> std::result::Result<i64, String> {
    let sign = usize::from(rest.starts_with('-'));
    let digits = rest[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(match rest.chars().nth(sign) {
            Some(c) => format!("expected {what}, found '{c}'"),
            None => format!("expected {what}, found the end"),
        });
    }
    let (text, tail) = rest.split_at(sign + digits);
    *rest = tail;
    text.parse()
        .map_err(|_| format!("{text} is outside the frame numbers this build handles"))
}

/// Takes a step (a positive whole number) off the front of `rest`.
fn step(rest: &mut &str) -> std::result::Result<u64, String> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (text, tail) = rest.split_at(digits);
    *rest = tail;
    match text.parse::<u64>() {
        Ok(0) => Err("step 0; the step after 'x' must be 1 or more".to_owned()),
        Ok(step) => Ok(step),
        Err(_) if text.is_empty() => {
            Err("the step after 'x' must be a positive whole number, e.g. 1001-1100x2".to_owned())
        }
        Err(_) => Err(format!("step {text} is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frames(s: &str) -> Vec<i64> {
        FrameRange::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .frames()
    }

    #[test]
    fn golden_ranges() {
        let cases: &[(&str, &[i64])] = &[
            ("1001", &[1001]),
            ("1,5,10-12", &[1, 5, 10, 11, 12]),
            ("1001-1005x2", &[1001, 1003, 1005]),
            ("1-10x4", &[1, 5, 9]),
            ("1-10x100", &[1]),
            ("-10--7", &[-10, -9, -8, -7]),
            ("-2-2", &[-2, -1, 0, 1, 2]),
            ("-5", &[-5]),
            ("20-17", &[20, 19, 18, 17]),
            ("20-10x5", &[20, 15, 10]),
            ("5-5", &[5]),
            ("5-5x3", &[5]),
            ("1-5,3-8", &[1, 2, 3, 4, 5, 6, 7, 8]),
            ("10,1-3,10,2", &[10, 1, 2, 3]),
            (" 1 , 5-6 ", &[1, 5, 6]),
            ("0001-0003", &[1, 2, 3]),
        ];
        for &(input, want) in cases {
            assert_eq!(frames(input), want, "{input}");
        }
        // The SPEC §7 examples in full.
        assert_eq!(frames("1001-1100"), (1001..=1100).collect::<Vec<_>>());
        assert_eq!(
            frames("1001-1100x2"),
            (1001..=1100).step_by(2).collect::<Vec<_>>()
        );
        let mut spec = vec![1, 5];
        spec.extend(10..=20);
        assert_eq!(frames("1,5,10-20"), spec);
        assert_eq!(frames("-10--1"), (-10..=-1).collect::<Vec<_>>());
        assert_eq!(frames("-5-5"), (-5..=5).collect::<Vec<_>>());
        assert_eq!(
            frames(&format!("{}-{}", i64::MIN, i64::MIN + 2)),
            [i64::MIN, i64::MIN + 1, i64::MIN + 2]
        );
        assert_eq!(
            frames(&format!("{}-{}x{}", i64::MIN, i64::MAX, u64::MAX)),
            [i64::MIN, i64::MAX]
        );
    }

    #[test]
    fn accessors() {
        let r = FrameRange::parse("20-10x5").unwrap();
        assert_eq!((r.first(), r.last(), r.len()), (20, 10, 3));
        assert!(!r.is_empty());
        assert_eq!(r.as_slice(), [20, 15, 10]);
        let r: FrameRange = "1001".parse().unwrap();
        assert_eq!((r.first(), r.last(), r.len()), (1001, 1001, 1));
    }

    #[test]
    fn display_is_canonical() {
        let cases: &[(&str, &str)] = &[
            ("1001-1100", "1001-1100"),
            ("1001-1100x1", "1001-1100"),
            ("1001-1100x2", "1001-1100x2"),
            ("5-5x3", "5"),
            ("-10--1", "-10--1"),
            (" 1 ,0005-0010 ", "1,5-10"),
            ("1-5,3-8", "1-5,3-8"),
        ];
        for &(input, want) in cases {
            assert_eq!(FrameRange::parse(input).unwrap().to_string(), want);
        }
    }

    #[test]
    fn bad_ranges() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("  ", "empty"),
            ("1-", "no last frame"),
            ("x2", "expected a frame number, found 'x'"),
            ("10-20x0", "step 0"),
            ("10-20x", "positive whole number"),
            ("10-20x-2", "positive whole number"),
            ("10-20x2x2", "unexpected 'x2'"),
            ("abc", "found 'a'"),
            ("5x2", "a step needs a range"),
            ("1,,2", "empty item"),
            ("1,2,", "empty item"),
            ("1-2-3", "unexpected '-3'"),
            ("1--", "expected the last frame after '-', found the end"),
            ("-", "expected a frame number, found the end"),
            ("1..5", "unexpected '..5'"),
            ("1:5", "unexpected ':5'"),
            ("+5", "found '+'"),
            ("1 - 5", "unexpected ' - 5'"),
            ("99999999999999999999", "outside the frame numbers"),
            ("1-10x99999999999999999999", "too large"),
            ("0-1000000", "more than 1000000 frames"),
            ("0-600000,0-600000", "more than 1000000 frames"),
        ];
        for &(input, expect) in cases {
            let err = FrameRange::parse(input).expect_err(input);
            let IoError::Syntax {
                what,
                input: ref given,
                ref message,
            } = err
            else {
                panic!("{input}: not a syntax error: {err}");
            };
            assert_eq!(what, "frame range");
            assert_eq!(given, input);
            assert!(message.contains(expect), "{input}: {message}");
            assert!(message.contains("expected"), "{input}: {message}");
        }
        // The item at fault is named when there are several.
        let err = FrameRange::parse("1,5-,9").unwrap_err().to_string();
        assert!(err.contains("in '5-'"), "{err}");
    }

    #[test]
    fn from_frames_golden() {
        let cases: &[(&[i64], &str)] = &[
            (&[1, 2, 3], "1-3"),
            (&[1, 2], "1,2"),
            (&[5], "5"),
            (&[1, 3, 5, 7, 8], "1-7x2,8"),
            (&[3, 2, 1, 1, 2], "3-1"),
            (&[-3, -2, -1, 0], "-3-0"),
            (
                &[1001, 1002, 1003, 1010, 1020, 1030],
                "1001-1003,1010-1030x10",
            ),
        ];
        for &(input, want) in cases {
            assert_eq!(FrameRange::from_frames(input).unwrap().to_string(), want);
        }
        assert_eq!(FrameRange::from_frames(&[]), None);
    }

    /// A range as the items it is written with, and its frames by a
    /// plain model.
    fn spans() -> impl Strategy<Value = Vec<(i64, i64, u64)>> {
        let span = (-5000i64..5000, 0i64..60, 1u64..7, any::<bool>()).prop_map(
            |(start, len, step, down)| {
                let end = if down { start - len } else { start + len };
                (start, end, step)
            },
        );
        prop::collection::vec(span, 1..6)
    }

    fn write(spans: &[(i64, i64, u64)], explicit_step: bool) -> String {
        spans
            .iter()
            .map(|&(a, b, s)| match (a == b, s == 1 && !explicit_step) {
                (true, _) => a.to_string(),
                (false, true) => format!("{a}-{b}"),
                (false, false) => format!("{a}-{b}x{s}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    fn model(spans: &[(i64, i64, u64)]) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::new();
        for &(a, b, s) in spans {
            let mut f = a;
            loop {
                if !out.contains(&f) {
                    out.push(f);
                }
                let next = if a <= b { f + s as i64 } else { f - s as i64 };
                if (a <= b && next > b) || (a > b && next < b) || a == b {
                    break;
                }
                f = next;
            }
        }
        out
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(spans in spans(), explicit_step in any::<bool>()) {
            let text = write(&spans, explicit_step);
            let range = FrameRange::parse(&text).unwrap();
            prop_assert_eq!(range.frames(), model(&spans));
            prop_assert_eq!(range.to_string(), write(&spans, false));
            let again = FrameRange::parse(&range.to_string()).unwrap();
            prop_assert_eq!(&again, &range);
            prop_assert_eq!(range.first(), range.frames[0]);
            prop_assert_eq!(range.last(), *range.frames.last().unwrap());
        }

        #[test]
        fn from_frames_keeps_the_frames(list in prop::collection::vec(-50i64..50, 0..40)) {
            let want = dedup(list.iter().copied());
            match FrameRange::from_frames(&list) {
                None => prop_assert!(list.is_empty()),
                Some(range) => {
                    prop_assert_eq!(range.frames(), want.clone());
                    let parsed = FrameRange::parse(&range.to_string()).unwrap();
                    prop_assert_eq!(parsed.frames(), want);
                }
            }
        }

        #[test]
        fn any_text_parses_or_fails_cleanly(text in "[-0-9x, ]{0,16}") {
            if let Ok(range) = FrameRange::parse(&text) {
                prop_assert!(!range.is_empty());
                prop_assert_eq!(FrameRange::parse(&range.to_string()).unwrap(), range);
            }
        }
    }
}
