//! The service's tests ask it as a tower service: one request helper for all of them.

use http::header::{AsHeaderName, CACHE_CONTROL};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::StaticFiles;

/// A response and its body, read frame by frame until it ended or failed.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// Why the body ended before its end (a file sent from disk whose chunk no longer
    /// matches): what a client received before it is `body`.
    pub(crate) error: Option<String>,
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

/// `method uri` with `headers`, the body read whole: a body that fails is a failed test.
pub(crate) async fn request(
    service: &StaticFiles,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let answer = request_allowing_a_cut(service, method, uri, headers).await;
    assert_eq!(answer.error, None, "the body of {uri} failed");
    answer
}

/// `method uri` with `headers`, the body read until it ends or fails.
async fn request_allowing_a_cut(
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
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: received,
        error,
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

/// `GET uri` with `headers`, the body read until it ends or fails (a response cut short is
/// what some tests expect).
pub(crate) async fn fetch_partial(
    service: &StaticFiles,
    uri: &str,
    headers: &[(&str, &str)],
) -> Answer {
    request_allowing_a_cut(service, Method::GET, uri, headers).await
}
