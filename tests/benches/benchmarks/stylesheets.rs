//! The `stylesheets` section (see the list in `main.rs`).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{median, work_dir, Report};

/// A static dir whose `css/big.css` is about 1 MiB with 1,000 `url()` references to 100
/// fonts and images (a comment and a rule between them).
pub(crate) fn generate_big_stylesheet(root: &Path) -> PathBuf {
    let static_dir = root.join("static");
    for index in 0..100 {
        let path = static_dir.join(format!("img/sprite-{index}.png"));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("PNG bytes of sprite {index}\n").repeat(200)).unwrap();
    }
    let mut css = String::new();
    let mut index = 0;
    while css.len() < 1 << 20 {
        let padding =
            "  margin: 0 auto; padding: 1rem 2rem; color: #1b1b1f; border: 1px solid #ddd;\n";
        let _ = write!(
            css,
            "/* rule {index}: url(not-a-reference.png) */\n.sprite-{index} {{\n  background: url(../img/sprite-{}.png) no-repeat;\n{}}}\n",
            index % 100,
            padding.repeat(12)
        );
        index += 1;
    }
    assert!(index >= 1000, "{index} references");
    let path = static_dir.join("css/big.css");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, css).unwrap();
    println!(
        "stylesheets: {} bytes, {index} references",
        fs::metadata(&path).unwrap().len()
    );
    path
}

pub(crate) fn stylesheets(report: &mut Report, rounds: usize) {
    use cachekiller_core::__private::file_stamp::file_stamp;
    use cachekiller_core::__private::hash::{digest_of_bytes, DigestAlgorithm};
    use cachekiller_core::__private::static_files::StaticDirs;
    use cachekiller_core::__private::stylesheet::rewrite_stylesheet;
    use cachekiller_core::__private::stylesheet_cache::StylesheetCache;
    use cachekiller_core::__private::tagging::Tagger;
    use cachekiller_core::{SiteSettings, TagIn, TagMode};

    let root = work_dir("stylesheets");
    let file = generate_big_stylesheet(&root);
    let lookup = StaticDirs::new(&root, &["static".to_owned()]);
    let content = SiteSettings::new("tag", "4b400e3aeb0426", 6)
        .release_build(true)
        .tag_in(TagIn::Name)
        .mode(TagMode::Content);
    let vcs = content.clone().mode(TagMode::Vcs);
    let tags = |mode| match mode {
        TagMode::Content => Tagger::of_site(&content),
        TagMode::Vcs => Tagger::of_site(&vcs),
    };
    let rewrite = |mode| {
        rewrite_stylesheet(&lookup, "css/big.css", &file, file_stamp(&file), tags(mode)).unwrap()
    };
    let checked = rewrite(TagMode::Content);
    assert!(checked.unresolved.is_empty());
    assert!(checked.bytes.len() > fs::read(&file).unwrap().len());
    let cache = StylesheetCache::default();
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for _ in 0..rounds.max(5) * 4 {
        let started = Instant::now();
        std::hint::black_box(rewrite(TagMode::Content));
        samples[0].push(started.elapsed());
        let started = Instant::now();
        std::hint::black_box(rewrite(TagMode::Vcs));
        samples[1].push(started.elapsed());
        let started = Instant::now();
        let cached = cache
            .rewritten(
                &lookup,
                "css/big.css",
                &file,
                file_stamp(&file),
                tags(TagMode::Content),
            )
            .unwrap();
        std::hint::black_box(cached);
        samples[2].push(started.elapsed());
        let started = Instant::now();
        std::hint::black_box(digest_of_bytes(
            &fs::read(&file).unwrap(),
            DigestAlgorithm::Sha1,
        ));
        samples[3].push(started.elapsed());
    }
    let [content, vcs, cached, baseline] = samples.map(median);
    let milliseconds = |duration: Duration| format!("{:.2} ms", duration.as_secs_f64() * 1000.0);
    let baseline_text = format!("read + SHA-1 of the file {}", milliseconds(baseline));
    let ratio =
        |duration: Duration| format!("{:.1}x", duration.as_secs_f64() / baseline.as_secs_f64());
    println!("stylesheets:");
    report.row(
        "rewrite a 1 MiB stylesheet, 1,000 references, content tags (goal < 10 ms)",
        milliseconds(content),
        baseline_text.clone(),
        ratio(content),
    );
    report.row(
        "the same with revision tags",
        milliseconds(vcs),
        baseline_text.clone(),
        ratio(vcs),
    );
    report.row(
        "the same through the service's cache (101 files checked unchanged)",
        milliseconds(cached),
        baseline_text,
        ratio(cached),
    );
}
