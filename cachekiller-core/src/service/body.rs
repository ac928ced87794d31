//! The body of the service's responses: checked bytes from memory, or a range of the one open
//! file, read off the async workers, each chunk verified to be of the checked version before
//! it goes out.

use std::fs::File;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::task::JoinHandle;

use super::versions::read_at;
use crate::rules::file_stamp::FileVersion;

/// How much of a large file is read per frame.
const CHUNK_BYTES: u64 = 256 * 1024;

/// The body of a `StaticFiles` response.
#[derive(Debug)]
pub struct StaticBody {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Bytes(Option<Bytes>),
    File(FileRange),
}

#[derive(Debug)]
struct FileRange {
    file: Arc<File>,
    offset: u64,
    remaining: u64,
    version: FileVersion,
    reading: Option<JoinHandle<io::Result<Bytes>>>,
}

impl StaticBody {
    /// No body (`HEAD`, `304`, errors).
    pub(crate) fn empty() -> Self {
        StaticBody {
            inner: Inner::Bytes(None),
        }
    }

    /// `bytes`, in one frame.
    pub(crate) fn bytes(bytes: Bytes) -> Self {
        StaticBody {
            inner: Inner::Bytes((!bytes.is_empty()).then_some(bytes)),
        }
    }

    /// `length` bytes of `file` from `offset`. The body fails (and the connection is dropped,
    /// so no cache keeps a truncated response) as soon as a chunk read is no longer of
    /// `version`.
    pub(crate) fn file(file: Arc<File>, offset: u64, length: u64, version: FileVersion) -> Self {
        StaticBody {
            inner: Inner::File(FileRange {
                file,
                offset,
                remaining: length,
                version,
                reading: None,
            }),
        }
    }
}

impl Body for StaticBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.inner {
            Inner::Bytes(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            Inner::File(range) => range.poll_chunk(context),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Bytes(bytes) => bytes.is_none(),
            Inner::File(range) => range.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Bytes(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Inner::File(range) => SizeHint::with_exact(range.remaining),
        }
    }
}

impl FileRange {
    fn poll_chunk(&mut self, context: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        if self.remaining == 0 && self.reading.is_none() {
            return Poll::Ready(None);
        }
        let reading = self.reading.get_or_insert_with(|| {
            let file = Arc::clone(&self.file);
            let offset = self.offset;
            let length = self.remaining.min(CHUNK_BYTES);
            let version = self.version;
            tokio::task::spawn_blocking(move || read_chunk(&file, offset, length, version))
        });
        let result = match Pin::new(reading).poll(context) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.reading = None;
        let chunk = match result {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(error)) => {
                self.remaining = 0;
                return Poll::Ready(Some(Err(error)));
            }
            Err(join_error) => {
                self.remaining = 0;
                return Poll::Ready(Some(Err(io::Error::other(join_error))));
            }
        };
        self.offset += chunk.len() as u64;
        self.remaining -= chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }
}

use std::future::Future as _;

/// Reads exactly `length` bytes at `offset`, and checks that the file is still the version
/// whose digest decided the response.
fn read_chunk(file: &File, offset: u64, length: u64, version: FileVersion) -> io::Result<Bytes> {
    let mut buffer = vec![0; usize::try_from(length).unwrap_or(usize::MAX)];
    let mut filled = 0;
    while filled < buffer.len() {
        match read_at(file, &mut buffer[filled..], offset + filled as u64) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was sent",
                ))
            }
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    // Checked after every chunk, before it goes out: bytes of another version never leave,
    // so a client resuming the cut response (`If-Range`) cannot assemble a mix.
    if FileVersion::of(&file.metadata()?) != Some(version) {
        return Err(io::Error::other(
            "the file changed while it was sent: the response is cut short, so that no cache keeps it",
        ));
    }
    Ok(Bytes::from(buffer))
}
