//! The last step: the response for a checked version. Every header is derived from the checked
//! bytes: a strong `ETag` from their SHA-1 (one per content coding), the cache policy from the
//! tag's verdict on them, `Content-Length` from what is sent. There is no `Last-Modified`:
//! two deploys with equal sizes and mtimes would share it, and a `304` on it could bless other
//! bytes under a tag.

use std::fmt::Write as _;
use std::ops::RangeInclusive;

use bytes::Bytes;
use http::header::{
    ACCEPT_RANGES, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, ETAG, IF_NONE_MATCH, IF_RANGE, LOCATION, RANGE, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::body::{FileSource, StaticBody};
use super::compress::Encoding;
use super::versions::CheckedVersion;
use crate::rules::cache_policy::TagVerdict;

/// What a response is made of.
pub(crate) struct Answer<'a> {
    pub(crate) method: &'a Method,
    pub(crate) request_headers: &'a HeaderMap,
    pub(crate) checked: &'a CheckedVersion,
    pub(crate) verdict: TagVerdict,
    pub(crate) content_type: HeaderValue,
    /// True if the body could be sent compressed (so caches must key on `Accept-Encoding`).
    pub(crate) varies: bool,
    /// The compressed variant chosen for this client, if any.
    pub(crate) variant: Option<(Encoding, Bytes)>,
    /// The open file and where its version is cached, for a version sent from its file
    /// (`None` for one in memory, an archived version among them).
    pub(crate) source: Option<FileSource>,
}

/// The strong `ETag` of the checked bytes sent with `encoding`.
fn entity_tag(checked: &CheckedVersion, encoding: Option<Encoding>) -> String {
    match encoding {
        None => format!("\"{}\"", checked.sha1_hex),
        Some(encoding) => format!("\"{}-{}\"", checked.sha1_hex, encoding.token()),
    }
}

/// True if `If-None-Match` names these bytes in any coding: each is the same content, so a
/// client holding any of them holds the current version.
fn none_match_names(headers: &HeaderMap, checked: &CheckedVersion) -> bool {
    let hex = checked.sha1_hex.as_str();
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| {
            if candidate == "*" {
                return true;
            }
            let opaque = candidate.strip_prefix("W/").unwrap_or(candidate);
            let Some(inner) = opaque.strip_prefix('"').and_then(|o| o.strip_suffix('"')) else {
                return false;
            };
            let base = inner
                .strip_suffix("-br")
                .or_else(|| inner.strip_suffix("-gzip"))
                .unwrap_or(inner);
            base == hex
        })
}

impl Answer<'_> {
    pub(crate) fn into_response(self) -> Response<StaticBody> {
        let encoding = self.variant.as_ref().map(|(encoding, _)| *encoding);
        let mut response = Response::new(StaticBody::empty());
        let headers = response.headers_mut();
        headers.insert(
            ETAG,
            HeaderValue::from_str(&entity_tag(self.checked, encoding))
                .expect("hex and a token are a header value"),
        );
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static(self.verdict.cache_control()),
        );
        if self.varies {
            headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        if none_match_names(self.request_headers, self.checked) {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            return response;
        }
        headers.insert(CONTENT_TYPE, self.content_type.clone());
        if let Some((encoding, compressed)) = self.variant {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding.token()));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(compressed.len()));
            if self.method == Method::GET {
                *response.body_mut() = StaticBody::bytes(compressed);
            }
            return response;
        }
        headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        let length = self.checked.length;
        let range = match requested_range(self.request_headers, self.checked) {
            RangeRequest::Whole => {
                // These bytes go out as they are, under validators of these bytes: said, so
                // that a compression middleware wrapped around the service (tower-http's
                // `CompressionLayer`, actix-web's `Compress`, both app-wide as often as not)
                // leaves them alone rather than encode them under the same strong `ETag`.
                // (A range is left alone by both already.)
                response
                    .headers_mut()
                    .insert(CONTENT_ENCODING, HeaderValue::from_static("identity"));
                0..=length.saturating_sub(1)
            }
            RangeRequest::Part(range) => {
                *response.status_mut() = StatusCode::PARTIAL_CONTENT;
                let content_range = format!("bytes {}-{}/{length}", range.start(), range.end());
                response.headers_mut().insert(
                    CONTENT_RANGE,
                    HeaderValue::from_str(&content_range).expect("digits are a header value"),
                );
                range
            }
            RangeRequest::Unsatisfiable => {
                *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                let content_range = format!("bytes */{length}");
                response.headers_mut().insert(
                    CONTENT_RANGE,
                    HeaderValue::from_str(&content_range).expect("digits are a header value"),
                );
                response
                    .headers_mut()
                    .insert(CONTENT_LENGTH, HeaderValue::from(0));
                return response;
            }
        };
        let sent = if length == 0 {
            0
        } else {
            range.end() - range.start() + 1
        };
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(sent));
        if self.method == Method::GET && sent > 0 {
            *response.body_mut() = match (&self.checked.bytes, self.source) {
                (Some(bytes), _) => StaticBody::bytes(bytes.slice(
                    usize::try_from(*range.start()).unwrap_or(usize::MAX)
                        ..=usize::try_from(*range.end()).unwrap_or(usize::MAX),
                )),
                (None, Some(source)) => StaticBody::file(source, *range.start(), sent),
                // Not made: a version not in memory is always a file's.
                (None, None) => StaticBody::empty(),
            };
        }
        response
    }
}

enum RangeRequest {
    Whole,
    Part(RangeInclusive<u64>),
    Unsatisfiable,
}

/// The one range asked for, honoured only if `If-Range` (when present) names these bytes.
/// Several ranges are answered with the whole body (no multipart responses).
///
/// An empty body has no byte to range over: the whole (empty) body, `200`, rather than a
/// `Content-Range` no client can read (RFC 9110 §14.4 has no form for it but `*/0`).
fn requested_range(headers: &HeaderMap, checked: &CheckedVersion) -> RangeRequest {
    if checked.length == 0 {
        return RangeRequest::Whole;
    }
    // A unit other than bytes (`items=0-3`) is not ours: the whole body, as RFC 9110 asks.
    let Some(range) = headers
        .get(RANGE)
        .and_then(|value| value.to_str().ok())
        .filter(|range| range.trim_start().starts_with("bytes="))
    else {
        return RangeRequest::Whole;
    };
    if let Some(if_range) = headers.get(IF_RANGE) {
        if if_range.as_bytes() != entity_tag(checked, None).as_bytes() {
            return RangeRequest::Whole;
        }
    }
    match http_range_header::parse_range_header(range)
        .and_then(|parsed| parsed.validate(checked.length))
    {
        Ok(ranges) if ranges.len() == 1 => RangeRequest::Part(ranges[0].clone()),
        Ok(_) => RangeRequest::Whole,
        Err(_) => RangeRequest::Unsatisfiable,
    }
}

/// The length `headers` declare for the response, for a server that writes
/// `Content-Length` from the body's size: its `Content-Length` (a `HEAD` response's body is
/// empty), else the body's; none for a `304`, which has no body and declares none.
#[cfg_attr(not(any(feature = "actix", feature = "rocket")), allow(dead_code))]
pub(crate) fn declared_length(
    status: StatusCode,
    headers: &HeaderMap,
    body: &StaticBody,
) -> Option<u64> {
    use http_body::Body as _;
    if status == StatusCode::NOT_MODIFIED {
        return None;
    }
    headers
        .get(CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse().ok())
        .or_else(|| body.size_hint().exact())
}

/// A status with no body.
pub(crate) fn status(status: StatusCode) -> Response<StaticBody> {
    let mut response = Response::new(StaticBody::empty());
    *response.status_mut() = status;
    response
}

/// The answer of [`super::REVISION_ENDPOINT`]: the revision as text, revalidated on every use.
pub(crate) fn revision(revision: &str, method: &Method) -> Response<StaticBody> {
    let mut response = status(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(revision.len()));
    if method == Method::GET {
        *response.body_mut() = StaticBody::bytes(Bytes::copy_from_slice(revision.as_bytes()));
    }
    response
}

/// `405` for any method but `GET` and `HEAD`.
pub(crate) fn method_not_allowed() -> Response<StaticBody> {
    let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// The redirect from a directory to its index (`docs` to `docs/`). The `Location` is
/// relative to the request (`docs/`), so that the prefix the service is mounted under
/// (`/static`) is kept without the service having to know it.
pub(crate) fn to_directory(last_segment: &str, query: Option<&str>) -> Response<StaticBody> {
    let mut location = String::with_capacity(last_segment.len() + 8);
    location.push_str("./");
    for byte in last_segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte) {
            location.push(char::from(byte));
        } else {
            let _ = write!(location, "%{byte:02X}");
        }
    }
    location.push('/');
    if let Some(query) = query {
        location.push('?');
        location.push_str(query);
    }
    let mut response = status(StatusCode::TEMPORARY_REDIRECT);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}
