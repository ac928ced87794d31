//! Compressed variants of a checked version, made once from its bytes (the way of
//! `WhiteNoise` and memory-serve): Brotli and gzip, kept only when smaller. A precompressed sibling on
//! disk (`app.js.br`, `app.js.gz`, where the user turned them on) is used instead only if it
//! decodes to exactly the checked bytes: a sibling left from an older build is ignored, never
//! sent under the new bytes' tag.
//!
//! zstd is not offered: browsers that accept it accept Brotli too, and its encoder would add a
//! C library to every server's build.

#[cfg(test)]
use std::io::Write as _;

use http::HeaderValue;

pub(crate) use crate::rules::compression::{
    compress_at, is_compressible, verified_sibling, Encoding,
};

/// The encodings the `Accept-Encoding` header lines allow (all of them: a client may send the
/// header more than once), in the service's order of preference (Brotli is smaller). A coding
/// with `q=0` is refused; `*` stands for both.
pub(crate) fn accepted_encodings<'a>(
    accept_encoding: impl IntoIterator<Item = &'a HeaderValue>,
) -> Vec<Encoding> {
    let mut brotli = None;
    let mut gzip = None;
    let mut any = None;
    let items = accept_encoding
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for item in items {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                (name.trim().eq_ignore_ascii_case("q")).then(|| value.trim().parse::<f32>().ok())?
            })
            .next_back()
            .unwrap_or(1.0);
        let allowed = quality > 0.0;
        match coding.as_str() {
            "br" => brotli = Some(allowed),
            "gzip" | "x-gzip" => gzip = Some(allowed),
            "*" => any = Some(allowed),
            _ => {}
        }
    }
    let mut accepted = Vec::with_capacity(2);
    if brotli.or(any) == Some(true) {
        accepted.push(Encoding::Brotli);
    }
    if gzip.or(any) == Some(true) {
        accepted.push(Encoding::Gzip);
    }
    accepted
}

/// The Brotli quality the service compresses with: 6 is within 2% of 9 on real scripts (the
/// npm packages the tests install: 0.242 of the bytes against 0.238), five times faster and
/// with a quarter of its working memory (about 6 bytes per byte of input against 24 MiB and
/// more), which counts towards the service's memory bound. Ship `.br` siblings made at 11 for
/// the last 9% (`StaticFiles::precompressed_br`).
const BROTLI_QUALITY: i32 = 6;

/// An upper estimate of the memory compressing `length` bytes with `encoding` takes while it
/// runs (measured peaks: Brotli at quality 6, 4 MB in about 30 MB; gzip's state is a few
/// hundred kilobytes, its output at most about the input).
pub(crate) fn working_memory(length: usize, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Brotli => (4 << 20) + length.saturating_mul(7),
        Encoding::Gzip => (1 << 20) + length.saturating_mul(11) / 10,
    }
}

/// `bytes` compressed with `encoding` at the service's quality, or `None` if that does not
/// make them smaller by at least a sixteenth.
pub(crate) fn compress(bytes: &[u8], encoding: Encoding) -> Option<Vec<u8>> {
    compress_at(bytes, encoding, BROTLI_QUALITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_with_qualities() {
        let cases: &[(&str, &[Encoding])] = &[
            ("gzip, deflate, br", &[Encoding::Brotli, Encoding::Gzip]),
            ("br;q=1.0, gzip;q=0.8", &[Encoding::Brotli, Encoding::Gzip]),
            ("gzip", &[Encoding::Gzip]),
            ("br;q=0, gzip", &[Encoding::Gzip]),
            ("*", &[Encoding::Brotli, Encoding::Gzip]),
            ("*;q=0, gzip", &[Encoding::Gzip]),
            ("identity", &[]),
            ("", &[]),
            ("GZIP; Q=0.5", &[Encoding::Gzip]),
        ];
        for (header, expected) in cases {
            let value = HeaderValue::from_str(header).unwrap();
            assert_eq!(accepted_encodings(Some(&value)), *expected, "{header}");
        }
        assert!(accepted_encodings(None::<&HeaderValue>).is_empty());
        let lines = [
            HeaderValue::from_static("gzip"),
            HeaderValue::from_static("br"),
        ];
        assert_eq!(
            accepted_encodings(&lines),
            [Encoding::Brotli, Encoding::Gzip]
        );
    }

    #[test]
    fn compressed_variants_decode_to_the_bytes_and_incompressible_ones_are_skipped() {
        let text = ".rule { color: blue }\n".repeat(500);
        for encoding in [Encoding::Brotli, Encoding::Gzip] {
            let compressed = compress(text.as_bytes(), encoding).unwrap();
            assert!(compressed.len() < text.len() / 10);
            let verified = verified_sibling(compressed.clone(), encoding, text.as_bytes());
            assert_eq!(verified.as_ref(), Some(&compressed));
            // The same sibling does not stand for other bytes.
            let other = text.replace("blue", "pink");
            assert_eq!(
                verified_sibling(compressed.clone(), encoding, other.as_bytes()),
                None
            );
            assert_eq!(compress(b"ab", encoding), None);
        }
        assert_eq!(
            verified_sibling(
                b"not gzip at all, but short".to_vec(),
                Encoding::Gzip,
                text.as_bytes()
            ),
            None
        );
    }

    #[test]
    fn siblings_that_a_browser_would_decode_otherwise_are_refused() {
        let text = ".rule { color: blue }\n".repeat(500);
        let (first, second) = text.split_at(text.len() / 2);
        let gzip = |bytes: &[u8]| compress_anyway(bytes, Encoding::Gzip);
        // Two gzip members: a lenient decoder reads both, a browser the first only.
        let two_members = [gzip(first.as_bytes()), gzip(second.as_bytes())].concat();
        assert_eq!(
            verified_sibling(two_members, Encoding::Gzip, text.as_bytes()),
            None
        );
        let empty_first = [gzip(b""), gzip(text.as_bytes())].concat();
        assert_eq!(
            verified_sibling(empty_first, Encoding::Gzip, text.as_bytes()),
            None
        );
        let trailing = [gzip(text.as_bytes()), b"\0\0".to_vec()].concat();
        assert_eq!(
            verified_sibling(trailing, Encoding::Gzip, text.as_bytes()),
            None
        );
        // Bytes after the end of a Brotli stream.
        let brotli = compress_anyway(text.as_bytes(), Encoding::Brotli);
        let garbage = [brotli.clone(), b"GARBAGE-AFTER-END".to_vec()].concat();
        assert_eq!(
            verified_sibling(garbage, Encoding::Brotli, text.as_bytes()),
            None
        );
        assert!(verified_sibling(brotli, Encoding::Brotli, text.as_bytes()).is_some());
        assert!(verified_sibling(gzip(text.as_bytes()), Encoding::Gzip, text.as_bytes()).is_some());
    }

    fn compress_anyway(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
        let mut output = Vec::new();
        match encoding {
            Encoding::Brotli => {
                let mut input = bytes;
                let parameters = brotli::enc::BrotliEncoderParams::default();
                brotli::BrotliCompress(&mut input, &mut output, &parameters).unwrap();
            }
            Encoding::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(&mut output, flate2::Compression::default());
                encoder.write_all(bytes).unwrap();
                encoder.finish().unwrap();
            }
        }
        output
    }
}
