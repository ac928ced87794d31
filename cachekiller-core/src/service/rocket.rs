//! The Rocket adapter (feature `rocket`): a [`StaticFiles`] is mounted as Rocket's own
//! `FileServer` is, `rocket::build().mount("/static", files)`, as a `GET` and a `HEAD`
//! route of rank 10 (or [`RocketStaticFiles::rank`]). A path with no file forwards with
//! `404`, as `FileServer` does, so that a route of a higher rank or a catcher can take it. It
//! converts Rocket's types to the service's and back, and nothing else.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::Body as _;
use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};
use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};

use super::response::declared_length;
use super::{read_headers, StaticBody, StaticFiles, StaticRequest, READ_HEADERS};

/// The rank of the routes, as Rocket's `FileServer` (a route of a lower rank is tried first).
const DEFAULT_RANK: isize = 10;

/// A [`StaticFiles`] with the rank its routes are mounted at:
/// `rocket.mount("/static", RocketStaticFiles::new(files).rank(2))`. A [`StaticFiles`] mounts
/// as one of these with rank 10.
#[derive(Debug, Clone)]
pub struct RocketStaticFiles {
    files: StaticFiles,
    rank: isize,
}

impl RocketStaticFiles {
    /// `files`, at rank 10.
    #[must_use]
    pub fn new(files: StaticFiles) -> Self {
        RocketStaticFiles {
            files,
            rank: DEFAULT_RANK,
        }
    }

    /// Mounts the routes at `rank`.
    #[must_use]
    pub fn rank(mut self, rank: isize) -> Self {
        self.rank = rank;
        self
    }
}

impl From<RocketStaticFiles> for Vec<Route> {
    fn from(files: RocketStaticFiles) -> Self {
        [Method::Get, Method::Head]
            .into_iter()
            .map(|method| {
                let mut route = Route::ranked(files.rank, method, "/<path..>", files.clone());
                route.name = Some("cachekiller StaticFiles".into());
                route
            })
            .collect()
    }
}

impl From<StaticFiles> for Vec<Route> {
    fn from(files: StaticFiles) -> Self {
        RocketStaticFiles::new(files).into()
    }
}

#[rocket::async_trait]
impl Handler for RocketStaticFiles {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let method = http::Method::from_bytes(request.method().as_str().as_bytes())
            .unwrap_or(http::Method::OPTIONS);
        let headers = read_headers(READ_HEADERS.iter().flat_map(|name| {
            request
                .headers()
                .get(name.as_str())
                .map(|value| (name.as_str(), value.as_bytes()))
        }));
        let mount_segments = request.route().map_or(0, |route| {
            route
                .uri
                .base()
                .split('/')
                .filter(|segment| !segment.is_empty())
                .count()
        });
        let answer = self
            .files
            .respond_to(&StaticRequest {
                method: &method,
                path: path_below_mount(request.uri().path().as_str(), mount_segments),
                query: request.uri().query().map(|query| query.as_str()),
                headers: &headers,
            })
            .await;
        if answer.status() == http::StatusCode::NOT_FOUND {
            return Outcome::Forward((data, Status::NotFound));
        }
        Outcome::Success(rocket_response(answer))
    }
}

/// The raw (still percent-encoded) path after its first `mount_segments` non-empty segments:
/// Rocket's own segments are decoded, and the service decodes exactly once.
fn path_below_mount(path: &str, mount_segments: usize) -> &str {
    let mut rest = path;
    for _ in 0..mount_segments {
        let trimmed = rest.trim_start_matches('/');
        rest = trimmed.find('/').map_or("", |end| &trimmed[end..]);
    }
    rest
}

/// The service's response in Rocket's types.
fn rocket_response(answer: http::Response<StaticBody>) -> rocket::Response<'static> {
    let (parts, body) = answer.into_parts();
    let mut response = rocket::Response::new();
    response.set_status(Status::new(parts.status.as_u16()));
    for (name, value) in &parts.headers {
        // Rocket writes the length from the body's size.
        if name == http::header::CONTENT_LENGTH {
            continue;
        }
        if let Ok(value) = value.to_str() {
            response.adjoin_raw_header(name.as_str().to_owned(), value.to_owned());
        }
    }
    let body = RocketBody {
        body,
        pending: Bytes::new(),
        position: 0,
    };
    match declared_length(parts.status, &parts.headers, &body.body) {
        Some(length) => {
            response.set_sized_body(usize::try_from(length).unwrap_or(usize::MAX), body);
        }
        // A `304`: no length at all (Rocket strips the body).
        None => response.set_streamed_body(tokio::io::empty()),
    }
    response.set_max_chunk_size(usize::try_from(super::versions::CHUNK_BYTES).unwrap_or(4096));
    response
}

/// A [`StaticBody`] as Rocket reads it. Its size is always given, so Rocket never seeks it.
struct RocketBody {
    body: StaticBody,
    pending: Bytes,
    position: u64,
}

impl AsyncRead for RocketBody {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.pending.is_empty() {
            match Pin::new(&mut self.body).poll_frame(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(error)),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.pending = data;
                    }
                }
            }
        }
        let length = self.pending.len().min(buffer.remaining());
        buffer.put_slice(&self.pending[..length]);
        self.pending.advance(length);
        if self.pending.is_empty() {
            // A spent chunk still holds its buffer, and with it its share of the memory
            // bound: given back now, not when the next frame replaces it. (Kept, more bodies
            // than the bound has chunks each held a spent one while they waited for another:
            // every download stalled for good.)
            self.pending = Bytes::new();
        }
        self.position += length as u64;
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for RocketBody {
    fn start_seek(self: Pin<&mut Self>, position: io::SeekFrom) -> io::Result<()> {
        match position {
            io::SeekFrom::Current(0) => Ok(()),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a static file's body is sent from its start",
            )),
        }
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.position))
    }
}

#[cfg(test)]
mod tests {
    use super::path_below_mount;

    #[test]
    fn the_path_below_the_mount_is_the_raw_rest() {
        assert_eq!(path_below_mount("/static/css/a.css", 1), "/css/a.css");
        assert_eq!(
            path_below_mount("/static//css/a%2e.css", 1),
            "//css/a%2e.css"
        );
        assert_eq!(path_below_mount("//a/b/docs/", 2), "/docs/");
        assert_eq!(path_below_mount("/static", 1), "");
        assert_eq!(path_below_mount("/css/a.css", 0), "/css/a.css");
    }
}
