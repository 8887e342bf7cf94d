//! File-name patterns of frame sequences: parsing the frame token, writing
//! the path of a frame, and reading the frame back from a file name.
//!
//! The rules (token styles, negative frames, what matches) are listed in the
//! [`sequence`](super) module documentation.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use crate::error::{IoError, Result};

/// The most digits of padding a token may ask for. An `i64` has at most 19
/// digits and a sign; anything wider is a typo.
pub const MAX_PADDING: usize = 32;

/// The frame number a single-file pattern (one without a frame token) stands
/// for when no frame range is given: [`discover`](super::discover) reports
/// this frame when the file exists, and [`Pattern::frame_of`] returns it for
/// the file's name.
pub const SINGLE_FILE_FRAME: i64 = 1;

/// How the frame token was written. Only kept to tell patterns apart and for
/// tests: every style behaves the same once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Style {
    /// `####`: one `#` per digit.
    Hash,
    /// `@@@`: one `@` per digit.
    At,
    /// `%04d` or `%d`.
    Printf,
    /// `$F4` or `$F`.
    Houdini,
    /// `${F4}` or `${F}`.
    HoudiniBraced,
}

/// The frame token of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Token {
    style: Style,
    /// Width of the number, sign included; 0 = unpadded.
    padding: usize,
}

/// A sequence pattern: `name.####.exr` (`#` = one digit of padding each),
/// `name.%04d.exr`, `name.@@@.png` (`@` = one digit each), `name.$F4.exr`
/// (Houdini; `$F` = no padding, `${F4}` when letters follow), or a plain
/// single file (no frame token).
///
/// Only the last token in the file name counts; directories never hold
/// tokens. See the [`sequence`](super) module for the padding rules.
///
/// ```
/// use morph_io::sequence::Pattern;
/// let p = Pattern::parse("renders/shot.%04d.exr").unwrap();
/// assert_eq!(p.path(1001), std::path::Path::new("renders/shot.1001.exr"));
/// assert_eq!(p.path(-1), std::path::Path::new("renders/shot.-001.exr"));
/// assert_eq!(p.frame_of("shot.0042.exr".as_ref()), Some(42));
/// assert_eq!(p.to_hash_string(), "renders/shot.####.exr");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// The pattern as given, for [`Display`](fmt::Display).
    text: String,
    /// The directory part, as given, with its trailing separator; may be
    /// empty.
    dir: String,
    /// Literal file-name text before the token (the whole name for a single
    /// file), `%%` already turned into `%`.
    prefix: String,
    /// Literal file-name text after the token.
    suffix: String,
    /// `None` for a single file.
    token: Option<Token>,
}

/// One piece of a scanned file name.
enum Piece<'a> {
    /// Plain text.
    Literal(&'a str),
    /// `%%`, a literal `%`.
    Percent,
    /// A frame token and the text it was written as.
    Token(Token, &'a str),
}

impl Pattern {
    /// Parses a pattern. Fails with [`IoError::Syntax`] for an empty
    /// pattern, a missing file name, a malformed token (`%04`, `%0xd`, `%4d`,
    /// `$FPS`, `${F4`) or padding over [`MAX_PADDING`].
    pub fn parse(s: &str) -> Result<Pattern> {
        let err = |message: String| IoError::Syntax {
            what: "pattern",
            input: s.to_owned(),
            message,
        };
        if s.is_empty() {
            return Err(err(
                "empty; expected a file name such as name.####.exr".to_owned()
            ));
        }
        let (dir, name) = match s.rfind(std::path::is_separator) {
            Some(i) => (&s[..=i], &s[i + 1..]),
            None => ("", s),
        };
        if name.is_empty() || name == "." || name == ".." {
            return Err(err(
                "no file name after the directory; expected e.g. dir/name.####.exr".to_owned(),
            ));
        }
        let pieces = scan(name).map_err(err)?;
        let last = pieces.iter().rposition(|p| matches!(p, Piece::Token(..)));
        let (before, token, after) = match last {
            Some(i) => {
                let Piece::Token(token, _) = pieces[i] else {
                    unreachable!("rposition found a token")
                };
                (&pieces[..i], Some(token), &pieces[i + 1..])
            }
            None => (&pieces[..], None, &[][..]),
        };
        Ok(Pattern {
            text: s.to_owned(),
            dir: dir.to_owned(),
            prefix: literal(before),
            suffix: literal(after),
            token,
        })
    }

    /// Whether the pattern has no frame token: one file for every frame.
    pub fn is_single_file(&self) -> bool {
        self.token.is_none()
    }

    /// Digits of padding (the width of the number, sign included); 0 when
    /// unpadded (`%d`, `$F`) or a single file. Padding 1 behaves like 0.
    pub fn padding(&self) -> usize {
        self.token.map_or(0, |t| t.padding)
    }

    /// The directory the frames are in: `.` when the pattern names none.
    pub fn dir(&self) -> &Path {
        if self.dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(&self.dir)
        }
    }

    /// The file of a frame. Negative frames are padded like `printf("%0Nd")`:
    /// the sign counts towards the width (`-001` for -1 with `####`); frames
    /// wider than the padding are written in full. A single file gives its
    /// own path for every frame.
    pub fn path(&self, frame: i64) -> PathBuf {
        Path::new(&self.dir).join(self.file_name(frame))
    }

    /// The file name (no directory) of a frame.
    fn file_name(&self, frame: i64) -> String {
        match self.token {
            None => self.prefix.clone(),
            Some(t) => format!(
                "{}{:0width$}{}",
                self.prefix,
                frame,
                self.suffix,
                width = t.padding
            ),
        }
    }

    /// Which frame `path` is, if its name matches the pattern: the inverse
    /// of [`path`](Self::path), so a number with other padding (`42` or
    /// `00042` for `####`) does not match. A bare file name is compared by
    /// name alone; a path with a directory must also be in the pattern's
    /// directory (compared as text, `.` components ignored, without touching
    /// the file system). A single-file pattern gives [`SINGLE_FILE_FRAME`]
    /// for its own file.
    pub fn frame_of(&self, path: &Path) -> Option<i64> {
        let name = path.file_name()?.to_str()?;
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
            && !same_dir(parent, Path::new(&self.dir))
        {
            return None;
        }
        self.frame_of_name(name)
    }

    /// [`frame_of`](Self::frame_of) for a file name without directory.
    pub(super) fn frame_of_name(&self, name: &str) -> Option<i64> {
        let Some(token) = self.token else {
            return (name == self.prefix).then_some(SINGLE_FILE_FRAME);
        };
        let number = self.number_text(name)?;
        let frame: i64 = number.parse().ok()?;
        // Only the exact text `path` writes matches: this one comparison
        // enforces the padding, the sign rule and "no leading zeros beyond
        // the padding".
        (format!("{frame:0width$}", width = token.padding) == number).then_some(frame)
    }

    /// The number part of `name` (optional `-`, then digits) if the name has
    /// the pattern's prefix and suffix, whatever its padding. Used to tell
    /// "wrong padding" apart from "unrelated file".
    pub(super) fn number_text<'a>(&self, name: &'a str) -> Option<&'a str> {
        self.token?;
        let number = name
            .strip_prefix(&self.prefix)?
            .strip_suffix(&self.suffix)?;
        let digits = number.strip_prefix('-').unwrap_or(number);
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(number)
    }

    /// The pattern with its token written as `#`s, for display:
    /// `shot.%04d.exr` → `shot.####.exr`. Unpadded tokens become one `#`
    /// (the same thing: one digit at least). Literal `%` is shown as is, so
    /// the result is not always parseable.
    pub fn to_hash_string(&self) -> String {
        match self.token {
            None => format!("{}{}", self.dir, self.prefix),
            Some(t) => format!(
                "{}{}{}{}",
                self.dir,
                self.prefix,
                "#".repeat(t.padding.max(1)),
                self.suffix
            ),
        }
    }
}

impl fmt::Display for Pattern {
    /// Prints the pattern as it was given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Pattern {
    type Err = IoError;

    fn from_str(s: &str) -> Result<Pattern> {
        Pattern::parse(s)
    }
}

/// Joins scanned pieces back into literal text (`%%` → `%`, tokens that are
/// not the last as written).
fn literal(pieces: &[Piece<'_>]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(s) | Piece::Token(_, s) => out.push_str(s),
            Piece::Percent => out.push('%'),
        }
    }
    out
}

/// Whether two directories are the same text, ignoring `.` components and
/// trailing separators.
fn same_dir(a: &Path, b: &Path) -> bool {
    fn parts(p: &Path) -> impl Iterator<Item = Component<'_>> {
        p.components().filter(|c| *c != Component::CurDir)
    }
    parts(a).eq(parts(b))
}

/// Splits a file name into literal text, `%%` escapes and frame tokens. All
/// token characters are ASCII, so byte offsets are always char boundaries.
/// The error is the message for [`IoError::Syntax`].
fn scan(name: &str) -> std::result::Result<Vec<Piece<'_>>, String> {
    let bytes = name.as_bytes();
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let found = match bytes[i] {
            c @ (b'#' | b'@') => {
                let len = bytes[i..].iter().take_while(|&&b| b == c).count();
                let style = if c == b'#' { Style::Hash } else { Style::At };
                Some((len, Some(token(style, len)?)))
            }
            b'%' => Some(scan_printf(name, i)?),
            b'$' if bytes.get(i + 1) == Some(&b'F') => Some(scan_houdini(name, i)?),
            b'$' if name[i..].starts_with("${F") => Some(scan_houdini_braced(name, i)?),
            _ => None,
        };
        let Some((len, token)) = found else {
            i += 1;
            continue;
        };
        if literal_start < i {
            pieces.push(Piece::Literal(&name[literal_start..i]));
        }
        pieces.push(match token {
            Some(t) => Piece::Token(t, &name[i..i + len]),
            None => Piece::Percent,
        });
        i += len;
        literal_start = i;
    }
    if literal_start < bytes.len() {
        pieces.push(Piece::Literal(&name[literal_start..]));
    }
    Ok(pieces)
}

/// A token, or the error for padding over [`MAX_PADDING`].
fn token(style: Style, padding: usize) -> std::result::Result<Token, String> {
    if padding > MAX_PADDING {
        return Err(format!(
            "{padding} digits of padding; at most {MAX_PADDING} are allowed"
        ));
    }
    Ok(Token { style, padding })
}

/// The digits starting at byte `at`, as a padding (saturating, so absurd
/// widths fail the [`MAX_PADDING`] check rather than overflow).
fn digits_at(name: &str, at: usize) -> (usize, usize) {
    let digits = name[at..].bytes().take_while(u8::is_ascii_digit).count();
    let value = name[at..at + digits].bytes().fold(0usize, |v, b| {
        v.saturating_mul(10).saturating_add(usize::from(b - b'0'))
    });
    (digits, value)
}

/// The character at byte `at`, quoted for messages, or "the end".
fn found_at(name: &str, at: usize) -> String {
    match name[at..].chars().next() {
        Some(c) => format!("'{c}'"),
        None => "the end of the name".to_owned(),
    }
}

/// Scans `%%`, `%d` or `%0Nd` at byte `at` (which holds `%`): the length and
/// the token (`None` for `%%`).
fn scan_printf(name: &str, at: usize) -> std::result::Result<(usize, Option<Token>), String> {
    const EXPECTED: &str = "expected %d, %0Nd (N = digits of padding) or %% for a literal %";
    let bytes = name.as_bytes();
    if bytes.get(at + 1) == Some(&b'%') {
        return Ok((2, None));
    }
    let (digits, padding) = digits_at(name, at + 1);
    let end = at + 1 + digits;
    if bytes.get(end) != Some(&b'd') {
        return Err(format!(
            "'{}' is not a frame token: found {} after it; {EXPECTED}",
            &name[at..end],
            found_at(name, end)
        ));
    }
    if digits > 0 && bytes[at + 1] != b'0' {
        return Err(format!(
            "'{}' pads with spaces, which frame files never use; {EXPECTED}",
            &name[at..=end]
        ));
    }
    Ok((digits + 2, Some(token(Style::Printf, padding)?)))
}

/// Whether a byte would continue a Houdini variable name.
fn is_var_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Scans `$F` or `$FN` at byte `at`. Letters, digits or `_` right after it
/// would make Houdini read another variable (`$FF`, `$FPS`, `$F4_v2`), so
/// they are an error that suggests `${FN}`.
fn scan_houdini(name: &str, at: usize) -> std::result::Result<(usize, Option<Token>), String> {
    let (digits, padding) = digits_at(name, at + 2);
    let end = at + 2 + digits;
    if name.as_bytes().get(end).copied().is_some_and(is_var_char) {
        let var_len = name[at + 1..]
            .bytes()
            .take_while(|&b| is_var_char(b))
            .count();
        return Err(format!(
            "'${}' is not a frame token (Houdini would read it as another variable); \
             expected $F or $FN (N = digits of padding), or ${{F{}}} when letters, digits \
             or _ follow",
            &name[at + 1..at + 1 + var_len],
            &name[at + 2..end],
        ));
    }
    Ok((end - at, Some(token(Style::Houdini, padding)?)))
}

/// Scans `${F}` or `${FN}` at byte `at`.
fn scan_houdini_braced(
    name: &str,
    at: usize,
) -> std::result::Result<(usize, Option<Token>), String> {
    let (digits, padding) = digits_at(name, at + 3);
    let end = at + 3 + digits;
    if name.as_bytes().get(end) != Some(&b'}') {
        return Err(format!(
            "'{}' is not a frame token: found {} where '}}' was expected; \
             expected ${{F}} or ${{FN}} (N = digits of padding)",
            &name[at..end],
            found_at(name, end)
        ));
    }
    Ok((end + 1 - at, Some(token(Style::HoudiniBraced, padding)?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Golden cases: pattern, frame, expected path; each must also read back.
    #[test]
    fn golden_paths() {
        let cases: &[(&str, i64, &str)] = &[
            // SPEC §7 examples.
            ("name.####.exr", 1001, "name.1001.exr"),
            ("name.####.exr", 7, "name.0007.exr"),
            ("name.%04d.exr", 7, "name.0007.exr"),
            ("name.@@@.png", 7, "name.007.png"),
            ("name.$F4.exr", 7, "name.0007.exr"),
            // Unpadded.
            ("name.$F.exr", 7, "name.7.exr"),
            ("name.%d.exr", 1001, "name.1001.exr"),
            ("name.${F}.exr", 12, "name.12.exr"),
            ("name_${F3}_v2.exr", 12, "name_012_v2.exr"),
            ("name.%010d.exr", 5, "name.0000000005.exr"),
            // Wider than the padding: written in full.
            ("name.####.exr", 123_456, "name.123456.exr"),
            ("name.@.png", 42, "name.42.png"),
            // Negative frames: the sign counts towards the width.
            ("name.####.exr", -1, "name.-001.exr"),
            ("name.####.exr", -10, "name.-010.exr"),
            ("name.####.exr", -1000, "name.-1000.exr"),
            ("name.%04d.exr", -12345, "name.-12345.exr"),
            ("name.$F.exr", -3, "name.-3.exr"),
            ("name.####.exr", 0, "name.0000.exr"),
            // Directories never hold tokens.
            ("out/v##/shot.####.exr", 3, "out/v##/shot.0003.exr"),
            ("/abs/100%/s.@@.png", 3, "/abs/100%/s.03.png"),
            // Only the last token counts; `%%` is a literal `%`.
            ("a##b.####.exr", 3, "a##b.0003.exr"),
            ("a.%04d.####.exr", 3, "a.%04d.0003.exr"),
            ("a.####.%02d.exr", 3, "a.####.03.exr"),
            ("50%%.####.exr", 3, "50%.0003.exr"),
            ("####", 3, "0003"),
            ("frame#", 3, "frame3"),
            // `$` not followed by `F` is literal.
            ("$HIP.$F2.exr", 3, "$HIP.03.exr"),
        ];
        for &(pattern, frame, want) in cases {
            let pat = p(pattern);
            assert_eq!(pat.path(frame), Path::new(want), "{pattern} @ {frame}");
            assert_eq!(
                pat.frame_of(Path::new(want)),
                Some(frame),
                "{pattern} <- {want}"
            );
            assert_eq!(pat.to_string(), pattern);
        }
    }

    #[test]
    fn golden_padding_and_hash_form() {
        let cases: &[(&str, usize, &str)] = &[
            ("name.####.exr", 4, "name.####.exr"),
            ("name.%04d.exr", 4, "name.####.exr"),
            ("name.@@@.png", 3, "name.###.png"),
            ("name.$F4.exr", 4, "name.####.exr"),
            ("name.${F2}x.exr", 2, "name.##x.exr"),
            ("name.$F.exr", 0, "name.#.exr"),
            ("name.%d.exr", 0, "name.#.exr"),
            ("name.%0d.exr", 0, "name.#.exr"),
            ("dir/name.%%.%03d.exr", 3, "dir/name.%.###.exr"),
            ("dir/plate.exr", 0, "dir/plate.exr"),
        ];
        for &(pattern, padding, hash) in cases {
            let pat = p(pattern);
            assert_eq!(pat.padding(), padding, "{pattern}");
            assert_eq!(pat.to_hash_string(), hash, "{pattern}");
        }
    }

    #[test]
    fn single_file() {
        let pat = p("plates/bg.exr");
        assert!(pat.is_single_file());
        assert!(!p("bg.#.exr").is_single_file());
        assert_eq!(pat.path(1001), Path::new("plates/bg.exr"));
        assert_eq!(pat.path(-5), Path::new("plates/bg.exr"));
        assert_eq!(pat.dir(), Path::new("plates/"));
        assert_eq!(p("bg.exr").dir(), Path::new("."));
        assert_eq!(
            pat.frame_of(Path::new("plates/bg.exr")),
            Some(SINGLE_FILE_FRAME)
        );
        assert_eq!(pat.frame_of(Path::new("plates/fg.exr")), None);
        assert_eq!(p("100%%.png").path(1), Path::new("100%.png"));
    }

    #[test]
    fn other_padding_does_not_match() {
        let four = p("s.####.exr");
        for name in [
            "s.42.exr",
            "s.042.exr",
            "s.00042.exr",
            "s.-0001.exr",
            "s.-01.exr",
            "s.-0000.exr",
            "s.-000.exr",
            "s.+001.exr",
            "s.012345.exr",
            "s.0001.exr.tmp",
            "s.0001.EXR",
            "t.0001.exr",
            "s..exr",
            "s.-.exr",
            "s.00a1.exr",
            "s.99999999999999999999.exr",
        ] {
            assert_eq!(four.frame_of(Path::new(name)), None, "{name}");
        }
        let unpadded = p("s.$F.exr");
        assert_eq!(unpadded.frame_of(Path::new("s.0.exr")), Some(0));
        assert_eq!(unpadded.frame_of(Path::new("s.00.exr")), None);
        assert_eq!(unpadded.frame_of(Path::new("s.007.exr")), None);
        assert_eq!(unpadded.frame_of(Path::new("s.-0.exr")), None);
        assert_eq!(unpadded.frame_of(Path::new("s.123456.exr")), Some(123_456));
    }

    #[test]
    fn frame_of_checks_the_directory() {
        let pat = p("renders/shot.####.exr");
        assert_eq!(pat.frame_of(Path::new("shot.0001.exr")), Some(1));
        assert_eq!(pat.frame_of(Path::new("renders/shot.0001.exr")), Some(1));
        assert_eq!(pat.frame_of(Path::new("./renders/shot.0001.exr")), Some(1));
        assert_eq!(pat.frame_of(Path::new("other/shot.0001.exr")), None);
        let here = p("shot.####.exr");
        assert_eq!(here.frame_of(Path::new("./shot.0002.exr")), Some(2));
        assert_eq!(here.frame_of(Path::new("renders/shot.0002.exr")), None);
    }

    #[test]
    fn bad_patterns() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("dir/", "no file name"),
            ("dir/..", "no file name"),
            ("name.%04.exr", "'%04' is not a frame token"),
            ("name.%04", "the end of the name"),
            ("name.%0xd.exr", "found 'x'"),
            ("name.%x.exr", "'%' is not a frame token"),
            ("50%.png", "%% for a literal %"),
            ("name.%4d.exr", "pads with spaces"),
            ("name.$FF.exr", "'$FF' is not a frame token"),
            ("name.$FPS.exr", "'$FPS'"),
            ("name.$F4_v2.exr", "${F4}"),
            ("name.${F4.exr", "'}' was expected"),
            ("name.${Fx}.exr", "'}' was expected"),
            ("name.%099d.exr", "at most 32"),
            ("name.%099999999999999999999999d.exr", "at most 32"),
            (&"#".repeat(33), "33 digits of padding"),
            // A malformed token is an error even when it is not the last.
            ("a.%0xd.####.exr", "found 'x'"),
        ];
        for &(input, expect) in cases {
            let err = Pattern::parse(input).expect_err(input);
            let IoError::Syntax {
                what,
                input: ref given,
                ref message,
            } = err
            else {
                panic!("{input}: not a syntax error: {err}");
            };
            assert_eq!(what, "pattern");
            assert_eq!(given, input);
            assert!(message.contains(expect), "{input}: {message}");
            assert!(err.to_string().contains(input), "{err}");
        }
    }

    #[test]
    fn from_str_matches_parse() {
        let pat: Pattern = "a.@@.png".parse().unwrap();
        assert_eq!(pat, p("a.@@.png"));
        assert!("a.%4.png".parse::<Pattern>().is_err());
    }

    /// Literal text safe on either side of a token: no token characters
    /// except `%`, which is escaped when the pattern is written.
    fn literal_text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_. %é-]{0,10}"
    }

    /// A token as text, with its style and padding.
    fn token_text() -> impl Strategy<Value = (String, Style, usize)> {
        (0usize..5, 0usize..=12).prop_map(|(style, n)| match style {
            0 => ("#".repeat(n.max(1)), Style::Hash, n.max(1)),
            1 => ("@".repeat(n.max(1)), Style::At, n.max(1)),
            2 if n == 0 => ("%d".to_owned(), Style::Printf, 0),
            2 => (format!("%0{n}d"), Style::Printf, n),
            3 if n == 0 => ("$F".to_owned(), Style::Houdini, 0),
            3 => (format!("$F{n}"), Style::Houdini, n),
            _ if n == 0 => ("${F}".to_owned(), Style::HoudiniBraced, 0),
            _ => (format!("${{F{n}}}"), Style::HoudiniBraced, n),
        })
    }

    fn dir_text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("renders/".to_owned()),
            Just("/abs/with space/".to_owned()),
            Just("v##/%d/@@/".to_owned()),
        ]
    }

    /// Any pattern with a token, and the parts it was made of.
    fn sequence_pattern() -> impl Strategy<Value = (String, String, String, String, Style, usize)> {
        (dir_text(), literal_text(), token_text(), literal_text()).prop_filter_map(
            "token would absorb its neighbours",
            |(dir, prefix, (token, style, padding), suffix)| {
                // `$F4` followed by a digit or letter is another variable.
                if style == Style::Houdini && suffix.bytes().next().is_some_and(is_var_char) {
                    return None;
                }
                let text = format!(
                    "{dir}{}{token}{}",
                    prefix.replace('%', "%%"),
                    suffix.replace('%', "%%")
                );
                Some((text, dir, prefix, suffix, style, padding))
            },
        )
    }

    /// A frame: mostly a plausible one, sometimes any `i64`.
    fn frame() -> impl Strategy<Value = i64> {
        prop_oneof![4 => -100_000i64..1_000_000, 1 => any::<i64>()]
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            (text, dir, prefix, suffix, style, padding) in sequence_pattern()
        ) {
            let pat = Pattern::parse(&text).unwrap();
            prop_assert_eq!(pat.to_string(), text.clone());
            prop_assert_eq!(&pat.dir, &dir);
            prop_assert_eq!(&pat.prefix, &prefix);
            prop_assert_eq!(&pat.suffix, &suffix);
            prop_assert_eq!(pat.token, Some(Token { style, padding }));
            prop_assert_eq!(pat.padding(), padding);
            prop_assert_eq!(text.parse::<Pattern>().unwrap(), pat.clone());
            // The `#` form means the same sequence (when it parses back).
            if !prefix.contains('%') && !suffix.contains('%') {
                let hash = Pattern::parse(&pat.to_hash_string()).unwrap();
                for f in [-1000, -1, 0, 7, 1001, 123_456] {
                    prop_assert_eq!(hash.path(f), pat.path(f));
                }
            }
        }

        #[test]
        fn path_then_frame_of_round_trips(
            (text, ..) in sequence_pattern(),
            frame in frame(),
        ) {
            let pat = Pattern::parse(&text).unwrap();
            let path = pat.path(frame);
            prop_assert_eq!(pat.frame_of(&path), Some(frame), "{}", path.display());
            let name = path.file_name().unwrap();
            prop_assert_eq!(pat.frame_of(Path::new(name)), Some(frame));
        }

        /// A number written with any other padding than the pattern's is not
        /// a frame of it.
        #[test]
        fn other_padding_never_matches(
            (text, ..) in sequence_pattern(),
            frame in -100_000i64..100_000,
            width in 0usize..12,
        ) {
            let pat = Pattern::parse(&text).unwrap();
            let written = format!("{frame:0width$}");
            let canonical = format!("{frame:0width$}", width = pat.padding());
            let name = format!("{}{written}{}", pat.prefix, pat.suffix);
            let want = (written == canonical).then_some(frame);
            prop_assert_eq!(pat.frame_of_name(&name), want);
        }
    }
}
