//! Step 4: the response from a checked version: ranges, `HEAD`, methods, content validators.

use super::*;

#[test]
fn ranges_head_methods_and_conditional_requests_on_content_validators() {
    let root = site();
    let release = service(root.path(), true);
    let script = root.path().join("static/js/app.js");
    let content = sha1sum(&script, 40)[..6].to_owned();
    let etag = format!("\"{}\"", sha1sum(&script, 40));
    runtime().block_on(async {
        let uri = format!("/js/app.{content}.js");
        let first = get(&release, &uri).await;
        assert_eq!(first.header("content-type"), "text/javascript");
        assert_eq!(first.header("etag"), etag);
        assert_eq!(
            first.header("last-modified"),
            "-",
            "mtime is no validator here"
        );

        let not_modified = request(&release, Method::GET, &uri, &[("if-none-match", &etag)]).await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
        assert_eq!(not_modified.cache_control(), IMMUTABLE);
        assert!(not_modified.body.is_empty());
        let weak = format!("W/{etag}, \"other\"");
        let not_modified = request(&release, Method::GET, &uri, &[("if-none-match", &weak)]).await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);

        // If-Modified-Since alone is never a 304.
        let since = [("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")];
        assert_eq!(
            request(&release, Method::GET, &uri, &since).await.status,
            StatusCode::OK
        );

        let partial = request(&release, Method::GET, &uri, &[("range", "bytes=0-3")]).await;
        assert_eq!(partial.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(partial.body, b"docu");
        assert_eq!(partial.header("content-range"), "bytes 0-3/24");
        assert_eq!(partial.cache_control(), IMMUTABLE);
        let other_version = [("range", "bytes=0-3"), ("if-range", "\"0000\"")];
        let whole = request(&release, Method::GET, &uri, &other_version).await;
        assert_eq!(whole.status, StatusCode::OK);
        assert_eq!(whole.body.len(), 24);
        let other_unit = request(&release, Method::GET, &uri, &[("range", "items=0-3")]).await;
        assert_eq!(other_unit.status, StatusCode::OK);
        assert_eq!(other_unit.body.len(), 24);
        let beyond = request(&release, Method::GET, &uri, &[("range", "bytes=100-")]).await;
        assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(beyond.header("content-range"), "bytes */24");

        let head = request(&release, Method::HEAD, &uri, &[]).await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.cache_control(), IMMUTABLE);
        assert_eq!(head.header("content-length"), "24");
        assert!(head.body.is_empty());
        let post = request(&release, Method::POST, &uri, &[]).await;
        assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.header("allow"), "GET, HEAD");
    });
}

/// Item 2: the old and the new `app.js` of a rolling deploy, of equal size and mtime. The old
/// instance's validator, sent to the new one, is not a `304`.
#[test]
fn a_validator_from_another_deploy_with_equal_size_and_mtime_is_not_a_304() {
    let root = tempfile::tempdir().unwrap();
    let old_dir = root.path().join("old/static");
    let new_dir = root.path().join("new/static");
    write(&old_dir.join("js/app.js"), b"console.log('v1');\n");
    write(&new_dir.join("js/app.js"), b"console.log('v2');\n");
    let mtime = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for dir in [&old_dir, &new_dir] {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join("js/app.js"))
            .unwrap();
        file.set_modified(mtime).unwrap();
    }
    let settings = SiteSettings::new("tag", REVISION, 6).release_build(true);
    let old = StaticFiles::new(&old_dir, settings.clone()).unwrap();
    let new = StaticFiles::new(&new_dir, settings).unwrap();
    let new_tag = sha1sum(&new_dir.join("js/app.js"), 40)[..6].to_owned();
    let uri = format!("/js/app.js?tag={new_tag}");
    runtime().block_on(async {
        let from_old = get(&old, &uri).await;
        assert_eq!(from_old.cache_control(), NO_CACHE);
        assert_eq!(from_old.body, b"console.log('v1');\n");
        let etag = from_old.header("etag").to_owned();
        let from_new = request(&new, Method::GET, &uri, &[("if-none-match", &etag)]).await;
        assert_eq!(from_new.status, StatusCode::OK);
        assert_eq!(from_new.cache_control(), IMMUTABLE);
        assert_eq!(from_new.body, b"console.log('v2');\n");
    });
}
