//! Finding a sequence's frames on disk, and planning the files to read
//! (with a [`MissingPolicy`] for frames that are not there) and to write.

use std::fmt;
use std::fs;
use std::path::PathBuf;
use std::str::FromStr;

use super::{FrameRange, Pattern};
use crate::error::{IoError, Result};

/// Frames present on disk for a pattern, sorted ascending.
///
/// Reads the pattern's directory once. A file is a frame when its name is
/// exactly what [`Pattern::path`] writes for some frame (a `####` pattern
/// matches exactly 4 characters, or more for frames >= 10000; an unpadded one
/// any number without leading zeros) and it is a file, or a link to one.
/// Unrelated files and directories are ignored. A single-file pattern gives
/// `[SINGLE_FILE_FRAME]` when its file exists, else nothing.
///
/// Fails with [`IoError::Io`] when the directory cannot be read.
pub fn discover(pattern: &Pattern) -> Result<Vec<i64>> {
    Ok(scan_dir(pattern)?.frames)
}

/// What a directory holds for a pattern.
struct Scan {
    /// The frames, sorted.
    frames: Vec<i64>,
    /// A file that would be a frame but for its padding, and that frame,
    /// to hint at when nothing matches.
    other_padding: Option<(String, i64)>,
}

/// Reads the pattern's directory once.
fn scan_dir(pattern: &Pattern) -> Result<Scan> {
    if pattern.is_single_file() {
        let path = pattern.path(super::SINGLE_FILE_FRAME);
        let frames = match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => vec![super::SINGLE_FILE_FRAME],
            Ok(_) => Vec::new(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(IoError::io(path, e)),
        };
        return Ok(Scan {
            frames,
            other_padding: None,
        });
    }
    let dir = pattern.dir();
    let mut frames = Vec::new();
    let mut other_padding = None;
    for entry in fs::read_dir(dir).map_err(|e| IoError::io(dir, e))? {
        let entry = entry.map_err(|e| IoError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue; // Not UTF-8, so not a name a pattern can give.
        };
        let Some(frame) = pattern.frame_of_name(name) else {
            if other_padding.is_none()
                && let Some(Ok(frame)) = pattern.number_text(name).map(str::parse)
            {
                other_padding = Some((name.to_owned(), frame));
            }
            continue;
        };
        let file_type = entry
            .file_type()
            .map_err(|e| IoError::io(entry.path(), e))?;
        let is_file = file_type.is_file()
            || (file_type.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_file()));
        if is_file {
            frames.push(frame);
        }
    }
    // Each frame has exactly one name, so there are no duplicates to drop.
    frames.sort_unstable();
    Ok(Scan {
        frames,
        other_padding,
    })
}

/// What to do with an input frame that is not on disk (`--missing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissingPolicy {
    /// Stop with [`IoError::MissingFrame`] naming the first missing frame.
    #[default]
    Error,
    /// Leave the frame out of the plan.
    Skip,
    /// Use the nearest earlier frame on disk (else the nearest later one).
    Hold,
}

impl MissingPolicy {
    /// The name `--missing` takes: `error`, `skip` or `hold`.
    pub fn as_str(self) -> &'static str {
        match self {
            MissingPolicy::Error => "error",
            MissingPolicy::Skip => "skip",
            MissingPolicy::Hold => "hold",
        }
    }
}

impl fmt::Display for MissingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MissingPolicy {
    type Err = IoError;

    /// `error`, `skip` or `hold`, in any case.
    fn from_str(s: &str) -> Result<MissingPolicy> {
        [
            MissingPolicy::Error,
            MissingPolicy::Skip,
            MissingPolicy::Hold,
        ]
        .into_iter()
        .find(|p| s.eq_ignore_ascii_case(p.as_str()))
        .ok_or_else(|| IoError::Syntax {
            what: "missing-frame policy",
            input: s.to_owned(),
            message: "expected error, skip or hold".to_owned(),
        })
    }
}

/// One planned input frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FrameSource {
    /// The frame asked for (the output frame number).
    pub frame: i64,
    /// The file to read for it.
    pub path: PathBuf,
    /// With [`MissingPolicy::Hold`], the frame on disk used in place of a
    /// missing `frame`; `None` when `frame` itself is read.
    pub held_from: Option<i64>,
}

/// Resolves requested frames against what is on disk (one directory read).
///
/// - [`MissingPolicy::Error`]: [`IoError::MissingFrame`] naming the first
///   missing frame (in the order given) and its path;
/// - [`MissingPolicy::Skip`]: missing frames are dropped;
/// - [`MissingPolicy::Hold`]: a missing frame reads the nearest earlier
///   frame on disk (else the nearest later one), recorded in `held_from`.
///
/// When none of the requested frames exists, every policy fails with
/// [`IoError::NoFrames`]: holding one frame for a whole range, or skipping
/// everything, is almost always a wrong range or pattern. A single-file
/// pattern serves every frame from its one file. Frames are kept in the
/// order given, repeats included; no frames asked for gives an empty plan.
pub fn resolve(
    pattern: &Pattern,
    frames: &[i64],
    policy: MissingPolicy,
) -> Result<Vec<FrameSource>> {
    resolve_against(pattern, frames, policy, &scan_dir(pattern)?)
}

/// Convenience for the CLI: the frames of `range`, or, with no range, every
/// frame found on disk ([`IoError::NoFrames`], naming the pattern and the
/// directory, when there are none); then [`resolve`]. Reads the directory
/// once.
pub fn plan(
    pattern: &Pattern,
    range: Option<&FrameRange>,
    policy: MissingPolicy,
) -> Result<Vec<FrameSource>> {
    let scan = scan_dir(pattern)?;
    match range {
        Some(range) => resolve_against(pattern, range.as_slice(), policy, &scan),
        None if scan.frames.is_empty() => Err(no_frames(pattern, &scan, "no file matches")),
        None => resolve_against(pattern, &scan.frames, policy, &scan),
    }
}

/// Checks that an output pattern can hold `frame_count` frames: a single
/// file cannot hold more than one ([`IoError::SingleFileOutput`]).
pub fn check_output(pattern: &Pattern, frame_count: usize) -> Result<()> {
    if pattern.is_single_file() && frame_count > 1 {
        return Err(IoError::SingleFileOutput {
            pattern: pattern.to_string(),
            frames: frame_count,
        });
    }
    Ok(())
}

/// [`resolve`] with the directory already read.
fn resolve_against(
    pattern: &Pattern,
    frames: &[i64],
    policy: MissingPolicy,
    scan: &Scan,
) -> Result<Vec<FrameSource>> {
    if frames.is_empty() {
        return Ok(Vec::new());
    }
    let on_disk = &scan.frames;
    let source = |frame, held_from: Option<i64>| FrameSource {
        frame,
        path: pattern.path(held_from.unwrap_or(frame)),
        held_from,
    };
    if pattern.is_single_file() {
        if on_disk.is_empty() {
            return Err(no_frames(pattern, scan, "the file does not exist"));
        }
        return Ok(frames.iter().map(|&f| source(f, None)).collect());
    }
    let exists = |f: &i64| on_disk.binary_search(f).is_ok();
    if !frames.iter().any(exists) {
        let asked = match frames {
            [one] => format!("frame {one} does not exist"),
            _ => format!(
                "none of the {} frames asked for ({}) exists",
                frames.len(),
                span_text(frames)
            ),
        };
        let message = if on_disk.is_empty() {
            format!("{asked}, and no file matches")
        } else {
            format!("{asked}; frames on disk: {}", span_text(on_disk))
        };
        return Err(no_frames(pattern, scan, &message));
    }
    let mut plan = Vec::with_capacity(frames.len());
    for &frame in frames {
        let at = on_disk.partition_point(|&f| f < frame);
        if on_disk.get(at) == Some(&frame) {
            plan.push(source(frame, None));
            continue;
        }
        match policy {
            MissingPolicy::Error => {
                return Err(IoError::MissingFrame {
                    frame,
                    path: pattern.path(frame),
                });
            }
            MissingPolicy::Skip => {}
            MissingPolicy::Hold => {
                // Some frame exists (checked above), so one side has one.
                let held = if at > 0 { on_disk[at - 1] } else { on_disk[at] };
                plan.push(source(frame, Some(held)));
            }
        }
    }
    Ok(plan)
}

/// `first to last`, or the range itself when short, for messages.
fn span_text(frames: &[i64]) -> String {
    let min = frames.iter().min().copied().unwrap_or_default();
    let max = frames.iter().max().copied().unwrap_or_default();
    match FrameRange::from_frames(frames) {
        Some(range) if range.to_string().len() <= 40 => range.to_string(),
        _ => format!("between {min} and {max}"),
    }
}

/// [`IoError::NoFrames`] for a pattern, with a hint when files with other
/// padding were seen.
fn no_frames(pattern: &Pattern, scan: &Scan, message: &str) -> IoError {
    let mut message = message.to_owned();
    if pattern.is_single_file() {
        message = format!(
            "{}: {message}",
            pattern.path(super::SINGLE_FILE_FRAME).display()
        );
    } else if let Some((name, frame)) = &scan.other_padding {
        let wanted = pattern.path(*frame);
        let wanted = wanted.file_name().unwrap_or_default().to_string_lossy();
        message.push_str(&format!(
            " ({name} has other padding: this pattern names that frame {wanted})"
        ));
    }
    IoError::NoFrames {
        pattern: pattern.to_string(),
        dir: pattern.dir().to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A temporary directory holding empty files with the given names.
    fn dir_with(names: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        dir
    }

    fn pattern_in(dir: &Path, name: &str) -> Pattern {
        Pattern::parse(&format!("{}/{name}", dir.display())).unwrap()
    }

    /// (frame, held_from) pairs of a plan, for compact asserts.
    fn held(plan: &[FrameSource]) -> Vec<(i64, Option<i64>)> {
        plan.iter().map(|s| (s.frame, s.held_from)).collect()
    }

    #[test]
    fn discover_matches_only_the_pattern() {
        let dir = dir_with(&[
            "shot.0001.exr",
            "shot.0002.exr",
            "shot.0004.exr",
            "shot.12345.exr",
            "shot.-001.exr",
            // Wrong padding, wrong name or extension, leftovers: ignored.
            "shot.3.exr",
            "shot.00005.exr",
            "shot.-0002.exr",
            "shot.0006.exr.tmp",
            "shot.0007.png",
            "other.0008.exr",
            "shot.####.exr",
            "notes.txt",
        ]);
        fs::create_dir(dir.path().join("shot.0009.exr")).unwrap();
        let pat = pattern_in(dir.path(), "shot.####.exr");
        assert_eq!(discover(&pat).unwrap(), [-1, 1, 2, 4, 12345]);
        // The same files through other spellings of the same token.
        for spelling in ["shot.%04d.exr", "shot.$F4.exr", "shot.@@@@.exr"] {
            let pat = pattern_in(dir.path(), spelling);
            assert_eq!(discover(&pat).unwrap(), [-1, 1, 2, 4, 12345], "{spelling}");
        }
        let unpadded = pattern_in(dir.path(), "shot.$F.exr");
        assert_eq!(discover(&unpadded).unwrap(), [3, 12345]);
        let png = pattern_in(dir.path(), "shot.#.png");
        assert_eq!(discover(&png).unwrap(), Vec::<i64>::new());
    }

    #[cfg(unix)]
    #[test]
    fn discover_follows_links_to_files_only() {
        let dir = dir_with(&["real.exr"]);
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(dir.path().join(target), dir.path().join(name)).unwrap();
        };
        link("real.exr", "s.0001.exr");
        link("nowhere.exr", "s.0002.exr");
        let pat = pattern_in(dir.path(), "s.####.exr");
        assert_eq!(discover(&pat).unwrap(), [1]);
    }

    #[test]
    fn discover_single_file_and_missing_dir() {
        let dir = dir_with(&["plate.exr"]);
        let plate = pattern_in(dir.path(), "plate.exr");
        assert_eq!(
            discover(&plate).unwrap(),
            [crate::sequence::SINGLE_FILE_FRAME]
        );
        let gone = pattern_in(dir.path(), "gone.exr");
        assert_eq!(discover(&gone).unwrap(), Vec::<i64>::new());
        let nodir = pattern_in(&dir.path().join("nodir"), "s.####.exr");
        let err = discover(&nodir).unwrap_err();
        assert!(
            matches!(&err, IoError::Io { path, .. } if path.ends_with("nodir/")),
            "{err:?}"
        );
    }

    /// Files 1, 2, 4, 5, 8: gaps at 3, 6, 7 and nothing before 1.
    fn gappy() -> (tempfile::TempDir, Pattern) {
        let names: Vec<String> = [1, 2, 4, 5, 8]
            .iter()
            .map(|f| format!("s.{f:04}.exr"))
            .collect();
        let dir = dir_with(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let pat = pattern_in(dir.path(), "s.####.exr");
        (dir, pat)
    }

    #[test]
    fn resolve_error_names_the_first_missing_frame() {
        let (_dir, pat) = gappy();
        let frames = FrameRange::parse("1-8").unwrap().frames();
        let err = resolve(&pat, &frames, MissingPolicy::Error).unwrap_err();
        let IoError::MissingFrame { frame, path } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*frame, 3);
        assert_eq!(path, &pat.path(3));
        assert!(err.to_string().contains("s.0003.exr"), "{err}");
        let ok = resolve(&pat, &[1, 2, 8], MissingPolicy::Error).unwrap();
        assert_eq!(held(&ok), [(1, None), (2, None), (8, None)]);
        assert_eq!(ok[2].path, pat.path(8));
    }

    #[test]
    fn resolve_skip_drops_missing_frames() {
        let (_dir, pat) = gappy();
        let plan = resolve(&pat, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], MissingPolicy::Skip).unwrap();
        assert_eq!(
            plan.iter().map(|s| s.frame).collect::<Vec<_>>(),
            [1, 2, 4, 5, 8]
        );
        assert!(plan.iter().all(|s| s.held_from.is_none()));
    }

    #[test]
    fn resolve_hold_uses_the_nearest_earlier_frame() {
        let (_dir, pat) = gappy();
        let plan = resolve(&pat, &[-1, 0, 1, 3, 6, 7, 8, 10], MissingPolicy::Hold).unwrap();
        assert_eq!(
            held(&plan),
            [
                (-1, Some(1)), // Nothing earlier: the nearest later frame.
                (0, Some(1)),
                (1, None),
                (3, Some(2)),
                (6, Some(5)),
                (7, Some(5)),
                (8, None),
                (10, Some(8)),
            ]
        );
        assert_eq!(plan[4].path, pat.path(5));
        // Order and repeats are kept as asked, even descending.
        let plan = resolve(&pat, &[7, 3, 3, 8], MissingPolicy::Hold).unwrap();
        assert_eq!(
            held(&plan),
            [(7, Some(5)), (3, Some(2)), (3, Some(2)), (8, None)]
        );
    }

    #[test]
    fn no_frame_at_all_fails_in_every_policy() {
        let (_dir, pat) = gappy();
        let empty = dir_with(&["s.1.exr", "unrelated.txt"]);
        let nothing = pattern_in(empty.path(), "s.####.exr");
        for policy in [
            MissingPolicy::Error,
            MissingPolicy::Skip,
            MissingPolicy::Hold,
        ] {
            // Files exist, but none that was asked for.
            let err = resolve(&pat, &[100, 101], policy).unwrap_err();
            assert!(matches!(err, IoError::NoFrames { .. }), "{policy}: {err:?}");
            let text = err.to_string();
            assert!(text.contains("none of the 2 frames"), "{text}");
            assert!(text.contains("1,2,4,5,8"), "{text}");
            // No file matches at all; the near miss is pointed out.
            let err = resolve(&nothing, &[1], policy).unwrap_err();
            let IoError::NoFrames { dir, message, .. } = &err else {
                panic!("{policy}: {err:?}");
            };
            assert_eq!(dir, nothing.dir());
            assert!(message.contains("no file matches"), "{message}");
            assert!(
                message.contains(
                    "s.1.exr has other padding: this pattern names that frame s.0001.exr"
                ),
                "{message}"
            );
        }
        // Nothing asked, nothing to do.
        assert_eq!(resolve(&pat, &[], MissingPolicy::Error).unwrap(), []);
    }

    #[test]
    fn plan_uses_the_range_or_the_files_found() {
        let (dir, pat) = gappy();
        let all = plan(&pat, None, MissingPolicy::Error).unwrap();
        assert_eq!(held(&all).len(), 5);
        assert_eq!(all[0].path, dir.path().join("s.0001.exr"));
        let range = FrameRange::parse("2-4").unwrap();
        let some = plan(&pat, Some(&range), MissingPolicy::Hold).unwrap();
        assert_eq!(held(&some), [(2, None), (3, Some(2)), (4, None)]);
        assert!(matches!(
            plan(&pat, Some(&range), MissingPolicy::Error),
            Err(IoError::MissingFrame { frame: 3, .. })
        ));

        let empty = dir_with(&["unrelated.txt"]);
        let nothing = pattern_in(empty.path(), "s.%04d.exr");
        let err = plan(&nothing, None, MissingPolicy::Skip).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&nothing.to_string()), "{text}");
        assert!(text.contains(&empty.path().display().to_string()), "{text}");
    }

    #[test]
    fn plan_single_file() {
        let dir = dir_with(&["plate.exr"]);
        let plate = pattern_in(dir.path(), "plate.exr");
        let one = plan(&plate, None, MissingPolicy::Error).unwrap();
        assert_eq!(held(&one), [(crate::sequence::SINGLE_FILE_FRAME, None)]);
        assert_eq!(one[0].path, dir.path().join("plate.exr"));
        // With a range, the one file is every frame (a held plate).
        let range = FrameRange::parse("1001-1003").unwrap();
        let many = plan(&plate, Some(&range), MissingPolicy::Error).unwrap();
        assert_eq!(held(&many), [(1001, None), (1002, None), (1003, None)]);
        assert!(many.iter().all(|s| s.path == dir.path().join("plate.exr")));
        let gone = pattern_in(dir.path(), "gone.exr");
        for range in [None, Some(&range)] {
            let err = plan(&gone, range, MissingPolicy::Hold).unwrap_err();
            assert!(err.to_string().contains("gone.exr"), "{err}");
        }
    }

    #[test]
    fn check_output_refuses_many_frames_in_one_file() {
        let single = Pattern::parse("out/result.exr").unwrap();
        let seq = Pattern::parse("out/result.####.exr").unwrap();
        assert!(check_output(&single, 0).is_ok());
        assert!(check_output(&single, 1).is_ok());
        assert!(check_output(&seq, 100).is_ok());
        let err = check_output(&single, 2).unwrap_err();
        assert!(matches!(err, IoError::SingleFileOutput { frames: 2, .. }));
        assert!(err.to_string().contains("out/result.exr"), "{err}");
    }

    #[test]
    fn missing_policy_names() {
        for policy in [
            MissingPolicy::Error,
            MissingPolicy::Skip,
            MissingPolicy::Hold,
        ] {
            assert_eq!(policy.to_string().parse::<MissingPolicy>().unwrap(), policy);
        }
        assert_eq!(
            "HOLD".parse::<MissingPolicy>().unwrap(),
            MissingPolicy::Hold
        );
        assert_eq!(MissingPolicy::default(), MissingPolicy::Error);
        let err = "ignore".parse::<MissingPolicy>().unwrap_err().to_string();
        assert!(
            err.contains("'ignore'") && err.contains("error, skip or hold"),
            "{err}"
        );
    }
}
