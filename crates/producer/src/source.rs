//! Where the rows come from, and how they are read twice.
//!
//! A file is simply opened again for the second pass. A stream (standard input, or any reader
//! given to [`InputSource::reader`]) can only be read once, so the first pass copies everything it
//! reads into an anonymous temporary file (deleted by the system when closed) and the second pass
//! reads that copy. The copy is complete by construction when the first pass reaches the end of
//! the input, which it must do to call the input valid.
//!
//! ```
//! use gcbulk_producer::InputSource;
//!
//! assert_eq!(InputSource::from_arg("-").name(), "<stdin>");
//! assert_eq!(InputSource::from_arg("users.csv").name(), "users.csv");
//! let _ = InputSource::reader("inline", "email\na@b.co\n".as_bytes());
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The name standard input is reported under (`<stdin>:3: …`).
pub const STDIN_NAME: &str = "<stdin>";

/// An input to validate or enqueue.
pub enum InputSource {
    /// A file, read twice.
    Path(PathBuf),
    /// A stream (e.g. standard input), read once and spooled for the second pass.
    Reader {
        /// The name errors are reported under.
        name: String,
        /// The stream.
        reader: Box<dyn Read + Send>,
    },
}

impl InputSource {
    /// The command-line convention: `-` is standard input, anything else a path.
    pub fn from_arg(arg: impl AsRef<std::ffi::OsStr>) -> Self {
        let arg = arg.as_ref();
        if arg == "-" {
            Self::stdin()
        } else {
            InputSource::Path(PathBuf::from(arg))
        }
    }

    /// Standard input, named [`STDIN_NAME`].
    pub fn stdin() -> Self {
        Self::reader(STDIN_NAME, io::stdin())
    }

    /// Any stream, reported under `name`.
    pub fn reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Self {
        InputSource::Reader {
            name: name.into(),
            reader: Box::new(reader),
        }
    }

    /// The name errors are reported under: the path as given, or the stream's name.
    pub fn name(&self) -> String {
        match self {
            InputSource::Path(path) => path.display().to_string(),
            InputSource::Reader { name, .. } => name.clone(),
        }
    }

    /// The path, when the input is a file.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            InputSource::Path(path) => Some(path),
            InputSource::Reader { .. } => None,
        }
    }
}

impl fmt::Debug for InputSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputSource::Path(path) => f.debug_tuple("Path").field(path).finish(),
            InputSource::Reader { name, .. } => f
                .debug_struct("Reader")
                .field("name", name)
                .finish_non_exhaustive(),
        }
    }
}

/// How to read the input again after the first pass.
#[derive(Debug)]
pub(crate) enum Reopen {
    Path(PathBuf),
    Spool(File),
}

impl Reopen {
    /// A fresh reader from the start of the input.
    pub(crate) fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        match self {
            Reopen::Path(path) => Ok(Box::new(File::open(path)?)),
            Reopen::Spool(file) => {
                // Clones share the file offset; readers are used one after the other.
                let mut file = file.try_clone()?;
                file.seek(SeekFrom::Start(0))?;
                Ok(Box::new(file))
            }
        }
    }
}

/// Opens an input for the first pass: the reader, and how to read it again.
pub(crate) fn open_first(input: InputSource) -> Result<(Box<dyn Read + Send>, Reopen), OpenError> {
    match input {
        InputSource::Path(path) => {
            let file = File::open(&path).map_err(OpenError::Read)?;
            Ok((Box::new(file), Reopen::Path(path)))
        }
        InputSource::Reader { reader, .. } => {
            let spool = tempfile::tempfile().map_err(OpenError::Spool)?;
            let copy = spool.try_clone().map_err(OpenError::Spool)?;
            let tee = Tee {
                inner: reader,
                copy: BufWriter::with_capacity(64 * 1024, copy),
            };
            Ok((Box::new(tee), Reopen::Spool(spool)))
        }
    }
}

/// Why an input could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    Read(io::Error),
    Spool(io::Error),
}

/// Marks an I/O error that came from writing the spool, not from reading the input.
#[derive(Debug)]
pub(crate) struct SpoolFailed(pub(crate) io::Error);

impl fmt::Display for SpoolFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "writing the spool failed: {}", self.0)
    }
}

impl std::error::Error for SpoolFailed {}

/// Splits an I/O error met while reading into "spool failed" and "input unreadable".
pub(crate) fn spool_error(e: &io::Error) -> Option<&SpoolFailed> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<SpoolFailed>())
}

/// Copies everything read from `inner` into the spool; flushes it at the end of the input so
/// that a write error surfaces as a read error instead of being lost on drop.
struct Tee {
    inner: Box<dyn Read + Send>,
    copy: BufWriter<File>,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let spooled = match buf.get(..n) {
            Some([]) => self.copy.flush(),
            Some(data) => self.copy.write_all(data),
            None => Err(io::Error::other(
                "reader returned more bytes than asked for",
            )),
        };
        spooled.map_err(|e| io::Error::other(SpoolFailed(e)))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_stream_is_spooled_and_can_be_read_again_twice() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let (mut first, reopen) =
            open_first(InputSource::reader("x", io::Cursor::new(data.clone()))).unwrap();
        let mut read = Vec::new();
        first.read_to_end(&mut read).unwrap();
        assert_eq!(read, data);
        for _ in 0..2 {
            let mut again = Vec::new();
            reopen.open().unwrap().read_to_end(&mut again).unwrap();
            assert_eq!(again, data);
        }
    }
}
