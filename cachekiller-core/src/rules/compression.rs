//! The compressed variants a static file is sent in, made by the service at run time or, for
//! embedded files, by the build: Brotli and gzip, kept only when smaller, for the media types
//! that compress. One rule for both, so that an embedded file varies exactly where a file on
//! disk does.

use std::io::{Read as _, Write as _};

/// A content coding the service sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `br`.
    Brotli,
    /// `gzip`.
    Gzip,
}

impl Encoding {
    /// Both, in the order the service prefers them.
    #[cfg_attr(not(feature = "export"), allow(dead_code))]
    pub const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The `Content-Encoding` token.
    #[cfg_attr(not(feature = "service"), allow(dead_code))]
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The extension of a precompressed sibling.
    pub fn sibling_extension(self) -> &'static str {
        match self {
            Encoding::Brotli => ".br",
            Encoding::Gzip => ".gz",
        }
    }
}

/// True for media types that compress (text, scripts, JSON, SVG, XML, WebAssembly, fonts that
/// are not already compressed); images, audio, video, archives and WOFF fonts do not.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/javascript"
                | "application/json"
                | "application/xml"
                | "application/wasm"
                | "application/x-javascript"
                | "application/vnd.ms-fontobject"
                | "font/ttf"
                | "font/otf"
                | "application/x-font-ttf"
                | "image/x-icon"
                | "image/vnd.microsoft.icon"
                | "image/bmp"
        )
}

/// The content type of the static path `relative`, by its extension, as the service sends it.
#[must_use]
pub fn content_type_of_path(relative: &str) -> String {
    mime_guess::from_path(relative)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// `bytes` compressed with `encoding` (Brotli at `brotli_quality`, gzip at its best), or `None` if that does not make them smaller by at
/// least a sixteenth (not worth a `Vary` and the client's decoding).
pub fn compress_at(bytes: &[u8], encoding: Encoding, brotli_quality: i32) -> Option<Vec<u8>> {
    let mut output = Vec::with_capacity(bytes.len() / 3 + 64);
    match encoding {
        Encoding::Brotli => {
            let parameters = brotli::enc::BrotliEncoderParams {
                quality: brotli_quality,
                lgwin: 22,
                size_hint: bytes.len(),
                ..Default::default()
            };
            let mut input = bytes;
            brotli::BrotliCompress(&mut input, &mut output, &parameters).ok()?;
        }
        Encoding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(&mut output, flate2::Compression::best());
            encoder.write_all(bytes).ok()?;
            encoder.finish().ok()?;
        }
    }
    worth_it(bytes.len(), output.len()).then_some(output)
}

/// The Brotli quality of variants made once per version, ahead of any request (by the build
/// for embedded files, by an export): they can afford the best (the service compresses at run
/// time at 6)...
#[cfg(any(feature = "resolve", feature = "export"))]
const ONCE_BROTLI_QUALITY: i32 = 11;
/// ...up to this size: quality 11 compresses about 1 MB a second, so a large bundle, edited
/// between builds, would cost that at every build; 9 is within a few percent, ten times
/// faster.
#[cfg(any(feature = "resolve", feature = "export"))]
const BEST_QUALITY_UP_TO: usize = 1 << 20;
#[cfg(any(feature = "resolve", feature = "export"))]
const LARGE_FILE_BROTLI_QUALITY: i32 = 9;
/// Below this, Brotli is tried at quality 6 too, and the smaller kept.
#[cfg(any(feature = "resolve", feature = "export"))]
const SMALL_FILE: usize = 64 * 1024;

/// `bytes` compressed with `encoding` as a variant made once per version and kept (embedded in
/// a binary, written by an export): Brotli at the best quality the size affords, and for a
/// small file the smaller of that and quality 6; `None` where it is not worth it (see
/// [`compress_at`]).
#[cfg(any(feature = "resolve", feature = "export"))]
#[must_use]
pub fn compress_once(bytes: &[u8], encoding: Encoding) -> Option<Vec<u8>> {
    let quality = if bytes.len() <= BEST_QUALITY_UP_TO {
        ONCE_BROTLI_QUALITY
    } else {
        LARGE_FILE_BROTLI_QUALITY
    };
    let mut compressed = compress_at(bytes, encoding, quality);
    // On small inputs quality 11 is now and then larger than 6 (its headers): the smaller.
    if encoding == Encoding::Brotli && bytes.len() <= SMALL_FILE {
        if let Some(other) = compress_at(bytes, encoding, 6) {
            if compressed
                .as_ref()
                .is_none_or(|best| other.len() < best.len())
            {
                compressed = Some(other);
            }
        }
    }
    compressed
}

fn worth_it(original: usize, compressed: usize) -> bool {
    compressed < original - original / 16
}

/// `sibling` (the bytes of a precompressed file), if it decodes with `encoding` to exactly
/// `checked`, is one complete stream with nothing after it, and is smaller. Browsers decode a
/// gzip body's first member only and stop at a Brotli stream's end, so a sibling of several
/// gzip members or with bytes after its stream would reach them as other bytes than it
/// reaches a lenient decoder: such a sibling is refused. Decoding stops one byte past
/// `checked`'s length, so a sibling that would inflate to more is refused without inflating it
/// all.
pub fn verified_sibling(sibling: Vec<u8>, encoding: Encoding, checked: &[u8]) -> Option<Vec<u8>> {
    if !worth_it(checked.len(), sibling.len()) {
        return None;
    }
    let complete = match encoding {
        Encoding::Gzip => decodes_to(&sibling, encoding, checked),
        // A Brotli decoder stops at the stream's last meta-block and ignores what follows: a
        // stream that still decodes whole without its last byte had bytes after its end.
        Encoding::Brotli => {
            decodes_to(&sibling, encoding, checked)
                && !decodes_to(
                    &sibling[..sibling.len().saturating_sub(1)],
                    encoding,
                    checked,
                )
        }
    };
    complete.then_some(sibling)
}

/// True if `compressed` decodes with `encoding` to exactly `expected`; for gzip, as one
/// member that ends where `compressed` does.
fn decodes_to(compressed: &[u8], encoding: Encoding, expected: &[u8]) -> bool {
    let limit = expected.len() as u64 + 1;
    let mut decoded = Vec::with_capacity(expected.len());
    match encoding {
        Encoding::Brotli => {
            let read = brotli::Decompressor::new(compressed, 64 * 1024)
                .take(limit)
                .read_to_end(&mut decoded);
            read.is_ok() && decoded == expected
        }
        Encoding::Gzip => {
            let mut member = flate2::bufread::GzDecoder::new(compressed);
            let read = (&mut member).take(limit).read_to_end(&mut decoded);
            read.is_ok() && decoded == expected && member.into_inner().is_empty()
        }
    }
}
