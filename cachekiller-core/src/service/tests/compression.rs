//! Compressed variants: made from the checked bytes, siblings used only if they decode to
//! them, tower-http's layers on top harmless.

use super::*;

/// Item 1: a stale `.gz` sibling is never sent; a fresh one is.
#[test]
fn compression_comes_from_the_checked_bytes_and_only_matching_siblings_are_used() {
    let root = site();
    let static_dir = root.path().join("static");
    let script = static_dir.join("js/big.js");
    let old = "console.log('old version');\n".repeat(400);
    let new = "console.log('new version!');\n".repeat(400);
    std::fs::write(&script, &old).unwrap();
    gzip_file(&script, &static_dir.join("js/big.js.gz"));
    std::fs::write(&script, &new).unwrap();
    let tag = sha1sum(&script, 40)[..6].to_owned();
    let served = service(root.path(), true).precompressed_gzip();
    let uri = format!("/js/big.js?tag={tag}");
    runtime().block_on(async {
        let answer = request(&served, Method::GET, &uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(answer.header("content-encoding"), "gzip");
        assert_eq!(answer.cache_control(), IMMUTABLE);
        assert_eq!(answer.header("vary"), "accept-encoding");
        assert_eq!(
            gunzip(&answer.body),
            new.as_bytes(),
            "the stale sibling was sent"
        );
        assert_eq!(
            answer.header("etag"),
            format!("\"{}-gzip\"", sha1sum(&script, 40))
        );

        // A fresh sibling of the next version is sent as it is, once checked.
        let newer = "console.log('newer one!!');\n".repeat(400);
        std::fs::write(&script, &newer).unwrap();
        let fresh = static_dir.join("js/big.js.gz");
        gzip_file(&script, &fresh);
        let newer_uri = format!("/js/big.js?tag={}", &sha1sum(&script, 40)[..6]);
        let answer = request(
            &served,
            Method::GET,
            &newer_uri,
            &[("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(answer.body, std::fs::read(&fresh).unwrap());
        assert_eq!(answer.cache_control(), IMMUTABLE);
        // The old URL is now revalidated.
        let answer = request(&served, Method::GET, &uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(answer.cache_control(), NO_CACHE);
        std::fs::write(&script, &new).unwrap();
        // Every Accept-Encoding line counts.
        let two_lines = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "identity"), ("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(two_lines.header("content-encoding"), "gzip");
        // Brotli first when both are accepted; the body decodes to the checked bytes.
        let answer = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "gzip, br")],
        )
        .await;
        assert_eq!(answer.header("content-encoding"), "br");
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(
            &mut brotli::Decompressor::new(answer.body.as_slice(), 4096),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, new.as_bytes());
        // Any coding's validator names the bytes: a 304.
        let etag = answer.header("etag").to_owned();
        let answer = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_MODIFIED);
        // Images are not compressed; ranges are of the identity bytes.
        let answer = request(
            &served,
            Method::GET,
            "/img/team%20photo.png",
            &[("accept-encoding", "br")],
        )
        .await;
        assert_eq!(answer.header("content-encoding"), "identity");
        let answer = request(
            &served,
            Method::GET,
            &uri,
            &[("accept-encoding", "br"), ("range", "bytes=0-6")],
        )
        .await;
        assert_eq!(answer.body, b"console");
    });
}

fn gzip_file(source: &Path, target: &Path) {
    let output = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(source)
        .output()
        .unwrap();
    assert!(output.status.success());
    std::fs::write(target, output.stdout).unwrap();
}

#[test]
fn compression_layers_on_top_stay_harmless() {
    let root = site();
    let big = root.path().join("static/css/big.css");
    std::fs::write(&big, ".rule { color: blue }\n".repeat(200)).unwrap();
    let content = sha1sum(&big, 40)[..6].to_owned();
    let layered = tower::ServiceBuilder::new()
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::compression::CompressionLayer::new())
        .service(service(root.path(), true));
    runtime().block_on(async {
        let request = Request::get(format!("/css/big.{content}.css"))
            .header("accept-encoding", "gzip")
            .body(String::new())
            .unwrap();
        let response = layered.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert_eq!(response.headers()[CACHE_CONTROL], IMMUTABLE);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(gunzip(&body), std::fs::read(&big).unwrap());

        // Bytes compression does not shrink go out as they are: the layer must not encode
        // them under their identity `ETag` (it did, before the service said `identity`).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                // xorshift64: bytes no compressor shrinks.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[3]
            })
            .collect();
        let noise = root.path().join("static/js/noise.js");
        std::fs::write(&noise, &random).unwrap();
        let request = Request::get("/js/noise.js")
            .header("accept-encoding", "gzip")
            .body(String::new())
            .unwrap();
        let response = layered.oneshot(request).await.unwrap();
        assert_eq!(response.headers()["content-encoding"], "identity");
        assert_eq!(
            response.headers()[http::header::ETAG],
            format!("\"{}\"", sha1sum(&noise, 40)).as_str()
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, random);
    });
}
