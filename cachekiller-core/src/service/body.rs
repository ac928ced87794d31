//! The body of the service's responses: checked bytes from memory, or a range of the one open
//! file, read off the async workers chunk by chunk, each chunk hashed and compared with the
//! digest the version's check took of it before any of it goes out. A write to the file since
//! its check (in place, through a shared `mmap` that changes no timestamp, a truncation) ends
//! the response at the first chunk it touched, before its last byte, so that no cache keeps
//! it, and drops the version from the cache so that the next request reads the file again.

use std::fs::File;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::task::JoinHandle;

use super::memory::{charged_bytes, Charge, MemoryBudget};
use super::versions::{read_chunk_at, CheckedVersion, Slot, CHUNK_BYTES};

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

/// A version sent from its file, and where it is cached.
#[derive(Debug, Clone)]
pub(crate) struct FileSource {
    pub(crate) file: Arc<File>,
    pub(crate) checked: Arc<CheckedVersion>,
    /// The cache slot holding `checked`, to drop it from if the file no longer holds it.
    pub(crate) slot: Weak<Slot>,
    /// What the chunk buffers are charged to.
    pub(crate) budget: Arc<MemoryBudget>,
}

#[derive(Debug)]
struct FileRange {
    source: FileSource,
    offset: u64,
    remaining: u64,
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

    /// `length` bytes of the version `source` sends from its file, from `offset`. The body
    /// fails (and the connection is dropped, so no cache keeps a truncated response) at the
    /// first chunk that is not the checked version's.
    pub(crate) fn file(source: FileSource, offset: u64, length: u64) -> Self {
        StaticBody {
            inner: Inner::File(FileRange {
                source,
                offset,
                remaining: length,
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
            let source = self.source.clone();
            let (offset, remaining) = (self.offset, self.remaining);
            // Room for the chunk is waited for without holding a thread (see
            // `memory::MemoryBudget::charge_chunk`), then it is read on a blocking one.
            tokio::spawn(async move {
                let length = chunk_length(&source.checked, offset);
                let charge = source.budget.charge_chunk(length).await;
                tokio::task::spawn_blocking(move || {
                    verified_part(&source, offset, remaining, charge)
                })
                .await
                .map_err(io::Error::other)?
            })
        });
        let result = match Pin::new(reading).poll(context) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.reading = None;
        let part = match result {
            Ok(Ok(part)) => part,
            Ok(Err(error)) => {
                self.remaining = 0;
                return Poll::Ready(Some(Err(error)));
            }
            Err(join_error) => {
                self.remaining = 0;
                return Poll::Ready(Some(Err(io::Error::other(join_error))));
            }
        };
        self.offset += part.len() as u64;
        self.remaining -= part.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(part))))
    }
}

use std::future::Future as _;

/// The length of the chunk of `checked` that holds `offset`.
fn chunk_length(checked: &CheckedVersion, offset: u64) -> usize {
    let chunk_start = offset - offset % CHUNK_BYTES;
    usize::try_from(CHUNK_BYTES.min(checked.length - chunk_start)).unwrap_or(usize::MAX)
}

/// The part of the range from `offset` (with `remaining` bytes to go) that its chunk holds,
/// read into a buffer `charge` pays for: the whole chunk is read and hashed, and sent only if
/// it is the checked version's.
fn verified_part(
    source: &FileSource,
    offset: u64,
    remaining: u64,
    charge: Charge,
) -> io::Result<Bytes> {
    let checked = &source.checked;
    let digests = checked
        .chunk_sha1s
        .as_deref()
        .ok_or_else(|| io::Error::other("a version sent from its file has chunk digests"))?;
    let index = usize::try_from(offset / CHUNK_BYTES).unwrap_or(usize::MAX);
    let chunk_start = offset - offset % CHUNK_BYTES;
    let length = chunk_length(checked, offset);
    let chunk_length = length as u64;
    let mut chunk = vec![0; length];
    let read = read_chunk_at(&source.file, &mut chunk, chunk_start)?;
    let expected = digests.get(index);
    let same = read == length
        && expected.is_some_and(|expected| {
            use sha1::Digest as _;
            sha1::Sha1::digest(&chunk).as_slice() == expected.as_slice()
        });
    if !same {
        if let Some(slot) = source.slot.upgrade() {
            slot.forget(checked);
        }
        return Err(io::Error::other(
            "the file changed since its version was checked: the response is cut short, so \
             that no cache keeps it",
        ));
    }
    let start = usize::try_from(offset - chunk_start).unwrap_or(usize::MAX);
    let end =
        usize::try_from((offset - chunk_start + remaining).min(chunk_length)).unwrap_or(usize::MAX);
    Ok(charged_bytes(chunk, charge).slice(start..end))
}
