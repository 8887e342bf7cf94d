//! Atomic file writes: a file appears complete under its name, or not at all.
//!
//! The data goes to a hidden temporary file in the destination's directory
//! (`.<name>.<random>.tmp`, so sequence patterns never match it); once it is
//! flushed and synced to disk it is renamed over the destination, which is
//! atomic on one file system. Any error, or a panic, removes the temporary
//! file and leaves the destination as it was. This is what lets a render
//! resume with `--skip-existing`: a file that exists is a finished frame.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::error::{IoError, Result};

/// Buffer size of the writer handed to the closure (large writes straight
/// through, small header writes batched).
const BUFFER_SIZE: usize = 1 << 20;

/// Writes `path` atomically: `write` fills a buffered temporary file in the
/// same directory, which is then synced and renamed to `path` (replacing an
/// existing file).
///
/// If `write` returns an error (or panics), or flushing, syncing or renaming
/// fails, the temporary file is removed and `path` is untouched; the error is
/// returned as it is (I/O errors name `path`). The new file gets the usual
/// permissions for a new file (`0o666` less the umask on Unix), not the
/// private ones of a temporary file.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| IoError::unsupported(path, "not a file name to write to"))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", file_name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(dir).map_err(|e| IoError::io(path, e))?;
    // From here on `temp_path` deletes the file when dropped, on every early
    // return and on unwinding.
    let (file, temp_path) = temp.into_parts();
    let mut writer = BufWriter::with_capacity(BUFFER_SIZE, file);
    write(&mut writer)?;
    let file = writer
        .into_inner()
        .map_err(|e| IoError::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| IoError::io(path, e))?;
    drop(file);
    temp_path
        .persist(path)
        .map_err(|e| IoError::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frame.0001.exr");
        write_atomic(&path, |w| {
            w.write_all(b"first").map_err(|e| IoError::io("x", e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write_atomic(&path, |w| {
            w.write_all(b"second").map_err(|e| IoError::io("x", e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(dir.path()), ["frame.0001.exr"]);
        #[cfg(unix)]
        {
            // The mode of any new file (0o666 less the umask), not the 0o600
            // of a temporary file.
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::write(&plain, b"").unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&path), mode(&plain));
            std::fs::remove_file(&plain).unwrap();
        }
    }

    #[test]
    fn failure_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        let err = write_atomic(&path, |w| {
            w.write_all(&[7u8; 3 << 20]).unwrap(); // more than the buffer: on disk already
            Err(IoError::decode("out.png", "simulated failure mid-write"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("simulated failure"), "{err}");
        assert!(!path.exists());
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    }

    #[test]
    fn failure_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.dpx");
        std::fs::write(&path, b"old frame").unwrap();
        let result = write_atomic(&path, |w| {
            w.write_all(b"partial").unwrap();
            Err(IoError::unsupported("out.dpx", "nope"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old frame");
        assert_eq!(entries(dir.path()), ["out.dpx"]);
    }

    #[test]
    fn panic_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.tif");
        let caught = std::panic::catch_unwind(|| {
            let _ = write_atomic(&path, |_| panic!("boom"));
        });
        assert!(caught.is_err());
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn missing_directory_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/out.exr");
        let err = write_atomic(&path, |_| Ok(())).unwrap_err();
        assert!(matches!(err, IoError::Io { .. }), "{err}");
        assert!(err.to_string().contains("out.exr"), "{err}");
    }
}
