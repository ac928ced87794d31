//! The service's tests ask it as a tower service: one request helper for all of them.

use http::header::{AsHeaderName, CACHE_CONTROL};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::StaticFiles;

/// A response, its body read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The header's value, `-` when it is absent.
    pub(crate) fn header(&self, name: impl AsHeaderName) -> &str {
        self.headers
            .get(name)
            .map_or("-", |value| value.to_str().unwrap())
    }

    pub(crate) fn cache_control(&self) -> &str {
        self.header(CACHE_CONTROL)
    }
}

/// `method uri` with `headers`, the body read whole (a body that fails is a failed test).
pub(crate) async fn request(
    service: &StaticFiles,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = service
        .clone()
        .oneshot(request.body(String::new()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes().to_vec(),
    }
}

/// `GET uri` with `headers`.
pub(crate) async fn fetch(service: &StaticFiles, uri: &str, headers: &[(&str, &str)]) -> Answer {
    request(service, Method::GET, uri, headers).await
}

/// `GET uri`.
pub(crate) async fn get(service: &StaticFiles, uri: &str) -> Answer {
    fetch(service, uri, &[]).await
}

/// A runtime for the tests that are not `#[tokio::test]`s.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A response whose body may end in an error (a file sent from disk whose chunk no longer
/// matches): what a client received before it, and the error.
pub(crate) struct Partial {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) error: Option<String>,
}

impl Partial {
    pub(crate) fn header(&self, name: impl AsHeaderName) -> &str {
        self.headers
            .get(name)
            .map_or("-", |value| value.to_str().unwrap())
    }
}

/// `GET uri` with `headers`, reading the body frame by frame until it ends or fails.
pub(crate) async fn fetch_partial(
    service: &StaticFiles,
    uri: &str,
    headers: &[(&str, &str)],
) -> Partial {
    let mut request = Request::builder().method(Method::GET).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = service
        .clone()
        .oneshot(request.body(String::new()).unwrap())
        .await
        .unwrap();
    let (parts, mut body) = response.into_parts();
    let mut received = Vec::new();
    let mut error = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => received.extend_from_slice(frame.data_ref().map_or(&[][..], |d| d)),
            Err(failure) => {
                error = Some(failure.to_string());
                break;
            }
        }
    }
    Partial {
        status: parts.status,
        headers: parts.headers,
        body: received,
        error,
    }
}
