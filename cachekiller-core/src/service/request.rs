//! What the service reads of a request, whatever server it came from: the method, the path
//! below the mount point, the query and four headers. An adapter (tower, actix-web, Rocket)
//! fills one in from its framework's request and converts the [`http::Response`] back; the
//! service decides everything else.

use http::header::{ACCEPT_ENCODING, IF_NONE_MATCH, IF_RANGE, RANGE};
use http::{HeaderMap, HeaderName, Method};

/// The request headers the service reads, and no others: an adapter copies these into
/// [`StaticRequest::headers`] (every value of each, in order).
pub const READ_HEADERS: [HeaderName; 4] = [ACCEPT_ENCODING, IF_NONE_MATCH, IF_RANGE, RANGE];

/// A request to the static file service, in the `http` crate's types.
#[derive(Debug, Clone, Copy)]
pub struct StaticRequest<'a> {
    /// The method: `GET` and `HEAD` are answered, anything else is `405`.
    pub method: &'a Method,
    /// The path below where the service is mounted (`/css/site.css` for
    /// `/static/css/site.css` under `/static`), percent-encoded as the client sent it: the
    /// service decodes it exactly once.
    pub path: &'a str,
    /// The query, without its `?`.
    pub query: Option<&'a str>,
    /// The request's headers; only [`READ_HEADERS`] are read.
    pub headers: &'a HeaderMap,
}

/// The headers of [`READ_HEADERS`] among `headers` (name and value bytes, as a framework on
/// another version of the `http` crate gives them), as the service reads them. A value that
/// is not a valid header value is left out.
pub fn read_headers<'h>(headers: impl IntoIterator<Item = (&'h str, &'h [u8])>) -> HeaderMap {
    let mut read = HeaderMap::new();
    for (name, value) in headers {
        let Some(name) = READ_HEADERS
            .iter()
            .find(|read| read.as_str().eq_ignore_ascii_case(name))
        else {
            continue;
        };
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            read.append(name.clone(), value);
        }
    }
    read
}
