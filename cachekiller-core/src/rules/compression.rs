//! The compressed variants a static file is sent in, made by the service at run time or, for
//! embedded files, by the build: Brotli and gzip, kept only when smaller, for the media types
//! that compress. One rule for both, so that an embedded file varies exactly where a file on
//! disk does.

use std::io::Write as _;

/// A content coding the service sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `br`.
    Brotli,
    /// `gzip`.
    Gzip,
}

impl Encoding {
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

pub(crate) fn worth_it(original: usize, compressed: usize) -> bool {
    compressed < original - original / 16
}
