//! Steps 1 and 2: one canonical path, one confined open; what is refused, directories and their
//! index, links and swapped directories, several static dirs, and the one path rule shared with
//! the macros and the run-time API.

use super::*;

#[test]
fn paths_out_of_the_directory_hidden_files_and_refused_names_are_not_found() {
    let root = site();
    let static_dir = root.path().join("static");
    write(&static_dir.join(".env"), b"SECRET=1\n");
    let env_tag = sha1sum(&static_dir.join(".env"), 40)[..6].to_owned();
    write(
        &static_dir.join(".well-known/security.txt"),
        b"Contact: x\n",
    );
    std::os::unix::fs::symlink("loop", static_dir.join("loop")).unwrap();
    let release = service(root.path(), true);
    let long_name = format!("/{}.css", "x".repeat(300));
    let long_path = format!("/{}", "abcdefg/".repeat(512));
    let loops = format!("/{}a.css", "loop/".repeat(40));
    runtime().block_on(async {
        for uri in [
            "/../secret.txt",
            "/css/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/css/%2E%2E/%2E%2E/secret.txt",
            "/leak.css",
            &format!("/leak.{REVISION}.css"),
            "/etc/passwd",
            "/etc/hostname?tag=4b400e3aeb0426",
            "/a%00.css",
            "/.env",
            "/%2Eenv",
            &format!("/.env.{env_tag}"),
            &format!("/.env?tag={env_tag}"),
            &long_name,
            &long_path,
            &loops,
            "/css/app.css/more",
            "/css/missing.css?tag=4b400e3aeb0426",
            // An encoded slash: one segment to the browser, two to the disk.
            "/css%2Fapp.css",
            "/img%2fteam%20photo.png",
        ] {
            let answer = get(&release, uri).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
            assert!(answer.body.is_empty(), "{uri}");
            assert_eq!(answer.cache_control(), "-", "{uri}");
        }
        let answer = get(&release, "/.well-known/security.txt").await;
        assert_eq!(answer.status, StatusCode::OK);
        let opted_in = service(root.path(), true).serve_hidden_files();
        assert_eq!(get(&opted_in, "/.env").await.body, b"SECRET=1\n");
    });
}

#[test]
fn names_ending_in_any_character_answer_without_panicking() {
    let root = site();
    write(&root.path().join("static/img/日本"), b"nihon");
    let release = service(root.path(), true);
    runtime().block_on(async {
        assert_eq!(
            get(&release, "/img/%E6%97%A5%E6%9C%AC").await.body,
            b"nihon"
        );
        assert_eq!(
            get(&release, "/img/%E2%82%AC%E2%82%AC").await.status,
            StatusCode::NOT_FOUND
        );
        // A raw UTF-8 request line, as some clients send it (the `http` crate takes it): the
        // same file as its percent-encoded spelling.
        let request = Request::get("/img/日本").body(String::new()).unwrap();
        let response = release.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.as_ref(), b"nihon");
    });
}

#[test]
fn directories_serve_their_checked_index_and_redirect_keeping_the_mount_prefix() {
    let root = site();
    let static_dir = root.path().join("static");
    write(&static_dir.join("docs/index.html"), b"<h1>docs</h1>\n");
    write(&root.path().join("outside/secret.txt"), b"secret\n");
    std::fs::create_dir_all(static_dir.join("private")).unwrap();
    std::os::unix::fs::symlink(
        root.path().join("outside/secret.txt"),
        static_dir.join("private/index.html"),
    )
    .unwrap();
    let release = service(root.path(), true);
    runtime().block_on(async {
        let answer = get(&release, "/docs/").await;
        assert_eq!(answer.body, b"<h1>docs</h1>\n");
        assert_eq!(answer.header("content-type"), "text/html");
        // Relative, so that `/static/docs` goes to `/static/docs/` under any mount point.
        let answer = get(&release, "/docs?x=1").await;
        assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(answer.header("location"), "./docs/?x=1");
        for uri in ["/private/", "/private/index.html", "/private/."] {
            assert_eq!(
                get(&release, uri).await.status,
                StatusCode::NOT_FOUND,
                "{uri}"
            );
        }
    });
}

#[test]
fn a_directory_swapped_for_a_link_out_is_refused_at_once() {
    let root = site();
    let static_dir = root.path().join("static");
    write(&static_dir.join("sub/hostname"), b"inside\n");
    let release = service(root.path(), true);
    runtime().block_on(async {
        assert_eq!(get(&release, "/sub/hostname").await.body, b"inside\n");
        std::fs::rename(static_dir.join("sub"), static_dir.join("sub.old")).unwrap();
        std::os::unix::fs::symlink("/etc", static_dir.join("sub")).unwrap();
        assert_eq!(
            get(&release, "/sub/hostname").await.status,
            StatusCode::NOT_FOUND
        );
    });
}

#[test]
fn a_deploy_that_swaps_a_symbolic_link_is_followed_at_once() {
    let root = tempfile::tempdir().unwrap();
    for (release, css) in [("1", "one {}\n"), ("2", "two {}\n")] {
        write(
            &root
                .path()
                .join(format!("releases/{release}/static/app.css")),
            css.as_bytes(),
        );
    }
    let current = root.path().join("current");
    std::os::unix::fs::symlink("releases/1", &current).unwrap();
    let served = StaticFiles::new(
        current.join("static"),
        SiteSettings::new("tag", REVISION, 6).release_build(true),
    )
    .unwrap();
    runtime().block_on(async {
        assert_eq!(get(&served, "/app.css").await.body, b"one {}\n");
        let next = root.path().join("current.next");
        std::os::unix::fs::symlink("releases/2", &next).unwrap();
        std::fs::rename(&next, &current).unwrap();
        assert_eq!(get(&served, "/app.css").await.body, b"two {}\n");
    });
}

#[test]
fn a_missing_static_dir_is_an_error_naming_where_it_looked() {
    let error = StaticFiles::new(
        "no-such-static-dir",
        SiteSettings::new("tag", REVISION, 6).release_build(true),
    )
    .unwrap_err();
    let message = error.to_string();
    let working_directory = std::env::current_dir().unwrap();
    assert!(
        message.contains(
            &working_directory
                .join("no-such-static-dir")
                .display()
                .to_string()
        ),
        "{message}"
    );
    assert!(message.contains("does not exist"), "{message}");
    assert!(message.contains("working directory"), "{message}");
    let file = tempfile::NamedTempFile::new().unwrap();
    let error = StaticFiles::new(
        file.path(),
        SiteSettings::new("tag", REVISION, 6).release_build(true),
    )
    .unwrap_err();
    assert!(error.to_string().contains("is not a directory"), "{error}");
    let several = SiteSettings::new("tag", REVISION, 6)
        .release_build(true)
        .static_dirs(&["assets", "vendor"]);
    let error = StaticFiles::new(file.path().parent().unwrap(), several).unwrap_err();
    assert!(
        error.to_string().contains("StaticFiles::in_root"),
        "{error}"
    );
}

/// The static dirs of the macros, in their order: a stylesheet's reference found only in the
/// second gets the same tag at both ends.
#[test]
fn several_static_dirs_are_searched_in_order_for_requests_and_references() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("assets/css/app.css"),
        b"a { b: url(../img/logo.svg) }\n",
    );
    write(&root.path().join("assets/shared.txt"), b"assets\n");
    write(&root.path().join("vendor/shared.txt"), b"vendor\n");
    write(&root.path().join("vendor/img/logo.svg"), b"<svg/>");
    let logo = sha1sum(&root.path().join("vendor/img/logo.svg"), 40)[..6].to_owned();
    let settings = SiteSettings::new("tag", REVISION, 6)
        .release_build(true)
        .mode(TagMode::Content)
        .static_dirs(&["assets", "vendor"]);
    let served = StaticFiles::in_root(root.path(), settings.clone()).unwrap();
    runtime().block_on(async {
        assert_eq!(get(&served, "/shared.txt").await.body, b"assets\n");
        assert_eq!(get(&served, "/img/logo.svg").await.body, b"<svg/>");
        let css = get(&served, "/css/app.css").await;
        assert_eq!(
            String::from_utf8(css.body).unwrap(),
            format!("a {{ b: url(../img/logo.svg?tag={logo}) }}\n")
        );
    });
    let missing = StaticFiles::in_root(root.path().join("assets"), settings).unwrap_err();
    assert!(missing.to_string().contains("assets/assets"), "{missing}");
}

/// Links inside the static dir that spell one file many ways (`a -> .`) share one entry.
#[test]
fn links_spelling_one_file_many_ways_share_one_entry() {
    let root = site();
    let static_dir = root.path().join("static");
    std::os::unix::fs::symlink(".", static_dir.join("a")).unwrap();
    std::os::unix::fs::symlink(".", static_dir.join("b")).unwrap();
    let release = service(root.path(), true);
    runtime().block_on(async {
        for spelling in [
            "/js/app.js",
            "/a/js/app.js",
            "/a/b/a/js/app.js",
            "/b/b/b/b/js/app.js",
        ] {
            let answer = get(&release, spelling).await;
            assert_eq!(answer.body, b"document.title = 'app';\n", "{spelling}");
        }
        assert_eq!(release.cache_usage().entries, 1);
    });
}

/// The one path rule, seen from its three users: a path the macros accept (`cdnstatic!` in
/// content mode compiles), the run-time API accepts (`url()` gives a URL) and the service
/// serves (200) are the same paths, over two static dirs with every odd file in them.
#[cfg(feature = "resolve")]
#[tokio::test]
async fn the_macros_the_run_time_api_and_the_service_agree_on_every_path() {
    use crate::resolve::static_files::{static_file_relative_path, FilePurpose, StaticDirs};

    let root = tempfile::tempdir().unwrap();
    let (first, second) = (root.path().join("static"), root.path().join("vendor"));
    write(&first.join("css/app.css"), b"a {}\n");
    write(&first.join(".well-known/security.txt"), b"contact\n");
    write(&second.join("fonts/a.woff2"), b"font");
    write(&second.join("only/there.js"), b"1;\n");
    write(&second.join("shadowed.js"), b"second\n");
    write(&first.join("shadowed.js"), b"first\n");
    write(&root.path().join("secret.txt"), b"secret\n");
    // Escapes: `a%41.txt` is `aA.txt` to every user of the rule, never the file named so.
    write(&first.join("aA.txt"), b"capital\n");
    write(&first.join("a%41.txt"), b"literal\n");
    write(&first.join("sub/x.txt"), b"x\n");
    write(&first.join("sp ace.txt"), b"space\n");
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, first.join(name)).unwrap();
    };
    link("css/app.css", "alias.css");
    link("../secret.txt", "leak.css");
    link("../vendor/fonts", "fonts");
    link("gone.js", "dangling.js");
    link("/etc", "etc");
    write(&second.join("dangling.js"), b"second\n");
    assert!(Command::new("mkfifo")
        .arg(first.join("pipe.css"))
        .status()
        .unwrap()
        .success());
    write(&second.join("pipe.css"), b"a {}\n");

    let settings = SiteSettings::new("tag", REVISION, 6)
        .release_build(true)
        .mode(TagMode::Content)
        .static_dirs(&["static", "vendor"]);
    let served = StaticFiles::in_root(root.path(), settings.clone()).unwrap();
    let by_name = StaticFiles::in_root(root.path(), settings.tag_in(TagIn::Name)).unwrap();
    let macros = StaticDirs::new(root.path(), &["static".to_owned(), "vendor".to_owned()]);
    // (path, whether it names a file we use)
    let cases = [
        ("css/app.css", true),
        ("css//./app.css", true),
        ("alias.css", true),
        ("shadowed.js", true),
        ("only/there.js", true),
        (".well-known/security.txt", true),
        // A link into another static dir: the file is used only inside its own dir.
        ("fonts/a.woff2", false),
        ("leak.css", false),
        ("etc/passwd", false),
        // A broken link decides, as a FIFO does: the later dir's file does not stand in.
        ("dangling.js", false),
        ("pipe.css", false),
        ("css", false),
        ("missing.css", false),
        ("../secret.txt", false),
        ("css/../../secret.txt", false),
        ("css\\app.css", false),
        ("css/app.css%00", false),
        ("a%41.txt", true),
        ("sub/x%2Etxt", true),
        ("sp%20ace.txt", true),
        ("sp ace.txt", true),
        ("sub%2Fx.txt", false),
    ];
    for (path, usable) in cases {
        let by_macros = static_file_relative_path(path)
            .ok()
            .flatten()
            .is_some_and(|relative| macros.find(&relative, FilePurpose::Hash).is_ok());
        let by_run_time = served.url(path).is_ok();
        // As a browser sends it: a space is escaped in the request line.
        let request_path = format!("/{}", path.replace(' ', "%20"));
        let by_service = request(&served, Method::GET, &request_path, &[])
            .await
            .status
            == StatusCode::OK;
        assert_eq!(
            (by_macros, by_run_time, by_service),
            (usable, usable, usable),
            "{path}: (macros, run-time API, service)"
        );
        // And the URL made for it names the bytes sent under it, in both forms.
        for served in [&served, &by_name] {
            let Ok(url) = served.url(path) else { continue };
            let answer = request(served, Method::GET, url.trim_start_matches("/static"), &[]).await;
            assert_eq!(
                (answer.status, answer.cache_control()),
                (StatusCode::OK, IMMUTABLE),
                "{path} -> {url}"
            );
            let decoded = crate::rules::url::percent_decode(path.split('?').next().unwrap())
                .unwrap()
                .replace("//./", "/");
            let on_disk = ["static", "vendor"]
                .iter()
                .map(|dir| root.path().join(dir).join(&decoded))
                .find(|file| file.is_file() && std::fs::symlink_metadata(file).is_ok())
                .unwrap();
            assert_eq!(
                answer.body,
                std::fs::read(&on_disk).unwrap(),
                "{path} -> {url}"
            );
        }
    }
}
