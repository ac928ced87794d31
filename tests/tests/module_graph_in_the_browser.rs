//! ES modules through the import map, in a real browser: the axum example
//! (`tests/fixtures/axum-site`, release, content tags in file names) with a graph of its own,
//! `site.js -> greeting.js -> leaf.js` and `site.js -> import("./lazy.js")`, loaded by headless
//! Chromium with one profile (one HTTP cache). Every claim is read from the server's request
//! log; the modules report that they ran by requesting `/ran?<what they imported>`.
//!
//! 1. The first load fetches each module once, under its tagged URL (no untagged module
//!    request), each answered `immutable`.
//! 2. A reload fetches no module.
//! 3. After an edit of the leaf alone and a rebuild, only the leaf's URL changes in the page's
//!    import map, and the next load fetches only the leaf.
//! 4. A module whose served bytes are not those the map's integrity names (the leaf edited on
//!    disk under the running server, in a fresh profile) is refused: the graph does not run.
//!
//! Chromium must be installed (`tests/run` installs it): without it this test fails.

use std::path::Path;
use std::time::Duration;

use cachekiller_tests::oracle::{git, sha1sum};
use cachekiller_tests::scratch::ScratchCrate;
use cachekiller_tests::serving::{free_port, http_get, wait_until, Chromium, Server};

const MODULES: &[&str] = &["js/site.js", "js/greeting.js", "js/leaf.js", "js/lazy.js"];

fn write_modules(static_dir: &Path, leaf: &str) {
    for (path, text) in [
        (
            "js/site.js",
            "import { greeting } from \"./greeting.js\";\n\
             document.documentElement.dataset.loaded = \"yes\";\n\
             const { lazy } = await import(\"./lazy.js\");\n\
             await fetch(`/ran?${greeting}-${lazy}`);\n",
        ),
        (
            "js/greeting.js",
            "import { leaf } from './leaf.js';\nexport const greeting = `greeting-${leaf}`;\n",
        ),
        ("js/leaf.js", &format!("export const leaf = \"{leaf}\";\n")),
        ("js/lazy.js", "export const lazy = \"lazy\";\n"),
    ] {
        std::fs::write(static_dir.join(path), text).unwrap();
    }
}

/// The request line of `path` tagged in its name with the first 6 hex digits of `sha1sum`.
fn tagged_request(static_dir: &Path, path: &str) -> String {
    let tag = sha1sum(&static_dir.join(path), 6);
    let (stem, extension) = path.rsplit_once('.').unwrap();
    format!("GET /static/{stem}.{tag}.{extension}")
}

/// The `imports` of the page's import map, as `"key":"value"` pairs.
fn import_map_entries(port: u16) -> Vec<String> {
    let page = String::from_utf8(http_get(port, "/").body).unwrap();
    let start = page
        .find("\"imports\":{")
        .expect("the page has an import map")
        + 11;
    let end = start + page[start..].find('}').unwrap();
    page[start..end].split(',').map(str::to_owned).collect()
}

#[test]
fn modules_are_fetched_once_under_tagged_urls_and_only_a_changed_leaf_anew() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch =
        ScratchCrate::fixture_copy("axum-site", &site, "browser_modules_site").in_release();
    scratch.append_to_manifest(
        "[package.metadata.cachekiller]\ntag_in = \"name\"\nmode = \"content\"\n",
    );
    let static_dir = site.join("static");
    write_modules(&static_dir, "leaf1");
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    let port = free_port();
    let page = format!("http://127.0.0.1:{port}/");
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());

    // 1. The first load: each module once, tagged, immutable; none untagged.
    let requests: Vec<String> = MODULES
        .iter()
        .map(|path| tagged_request(&static_dir, path))
        .collect();
    let server = Server::start(&scratch.binary(), port);
    chromium.open(&page);
    let ran = "GET /ran?greeting-leaf1-lazy";
    wait_until(ran, Duration::from_secs(30), || server.count(ran) == 1);
    for request in &requests {
        assert_eq!(
            server.count(request),
            1,
            "{request}:\n{:#?}",
            server.lines()
        );
        let immutable = format!("{request} 200 public, max-age=31536000, immutable");
        assert!(
            server.lines().contains(&immutable),
            "{request} not immutable:\n{:#?}",
            server.lines()
        );
    }
    let module_requests: Vec<String> = server
        .lines()
        .into_iter()
        .filter(|line| line.starts_with("GET /static/js/"))
        .collect();
    assert_eq!(
        module_requests.len(),
        MODULES.len(),
        "a module was fetched untagged or twice:\n{module_requests:#?}"
    );

    // 2. A reload: the page and the modules' work again, no module fetched.
    chromium.open(&page);
    wait_until("the second run", Duration::from_secs(30), || {
        server.count(ran) == 2
    });
    for request in &requests {
        assert_eq!(server.count(request), 1, "{request} fetched again");
    }
    let map_before = import_map_entries(port);
    drop(server);

    // 3. Only the leaf changes: only its URL in the map, only it fetched.
    write_modules(&static_dir, "leaf2");
    git(repo.path(), &["commit", "-q", "-am", "a new leaf"]);
    assert!(
        !scratch.build().fresh,
        "an edited module must rebuild the page"
    );
    let server = Server::start(&scratch.binary(), port);
    let map_after = import_map_entries(port);
    let changed: Vec<&String> = map_after
        .iter()
        .filter(|entry| !map_before.contains(entry))
        .collect();
    assert_eq!(changed.len(), 1, "{map_before:#?}\n{map_after:#?}");
    assert!(
        changed[0].starts_with("\"/static/js/leaf.js\":"),
        "{changed:?}"
    );
    chromium.open(&page);
    let ran = "GET /ran?greeting-leaf2-lazy";
    wait_until(ran, Duration::from_secs(30), || server.count(ran) == 1);
    let new_leaf = tagged_request(&static_dir, "js/leaf.js");
    assert_eq!(server.count(&new_leaf), 1, "{:#?}", server.lines());
    let fetched: Vec<String> = server
        .lines()
        .into_iter()
        .filter(|line| line.starts_with("GET /static/js/"))
        .collect();
    assert_eq!(fetched.len(), 1, "only the leaf is fetched:\n{fetched:#?}");

    // 4. Other bytes under the leaf's URL (edited on disk, not rebuilt), in a fresh profile:
    // the service sends them `no-cache`, and the browser refuses them by the map's integrity.
    assert_other_bytes_are_refused(&server, &static_dir, &page, &new_leaf);
}

fn assert_other_bytes_are_refused(server: &Server, static_dir: &Path, page: &str, leaf: &str) {
    std::fs::write(
        static_dir.join("js/leaf.js"),
        "export const leaf = \"leaf3\";\n",
    )
    .unwrap();
    let other_profile = tempfile::tempdir().unwrap();
    let fresh = Chromium::start(other_profile.path());
    fresh.open(page);
    wait_until(leaf, Duration::from_secs(30), || server.count(leaf) >= 2);
    assert!(
        server.lines().contains(&format!("{leaf} 200 no-cache")),
        "{:#?}",
        server.lines()
    );
    std::thread::sleep(Duration::from_secs(5));
    let runs = server
        .lines()
        .iter()
        .filter(|line| line.starts_with("GET /ran?"))
        .count();
    assert_eq!(
        runs,
        1,
        "a module graph with bytes its integrity does not name ran:\n{:#?}",
        server.lines()
    );
}

/// A computed `import("parts/" + name)` of a bare specifier whose prefix the crate's table
/// maps (`"parts/" = "js/parts/"`): the import map carries the prefix, so Chromium resolves
/// it and fetches the module untagged (revalidated). Before the prefix reached the map, it
/// failed with "Failed to resolve module specifier".
#[test]
fn a_computed_import_through_a_prefix_key_loads() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let site = repo.path().join("site");
    let scratch =
        ScratchCrate::fixture_copy("axum-site", &site, "browser_prefix_site").in_release();
    scratch.append_to_manifest(
        "[package.metadata.cachekiller]\nmode = \"content\"\n\
         [package.metadata.cachekiller.imports]\n\"parts/\" = \"js/parts/\"\n",
    );
    let static_dir = site.join("static");
    write_modules(&static_dir, "leaf1");
    std::fs::create_dir_all(static_dir.join("js/parts")).unwrap();
    std::fs::write(
        static_dir.join("js/parts/pick.js"),
        "export const picked = \"picked\";\n",
    )
    .unwrap();
    std::fs::write(
        static_dir.join("js/site.js"),
        "const name = [\"pick\", \"js\"].join(\".\");\n\
         const { picked } = await import(\"parts/\" + name);\n\
         await fetch(`/ran?${picked}`);\n",
    )
    .unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "the site"]);
    let _ = scratch.build();
    let port = free_port();
    let server = Server::start(&scratch.binary(), port);
    let profile = tempfile::tempdir().unwrap();
    let chromium = Chromium::start(profile.path());
    chromium.open(&format!("http://127.0.0.1:{port}/"));
    let ran = "GET /ran?picked";
    wait_until(ran, Duration::from_secs(30), || server.count(ran) == 1);
    assert!(
        server
            .lines()
            .contains(&"GET /static/js/parts/pick.js 200 no-cache".to_owned()),
        "{:#?}",
        server.lines()
    );
}
