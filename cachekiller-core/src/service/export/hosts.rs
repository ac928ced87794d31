//! The cache headers a static host sends, written with every export from every manifest in the
//! destination: `immutable` for exactly the tagged names (and their compressed siblings) that
//! some export wrote, `no-cache` for the plain names, and nothing else named.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::manifest::ExportManifest;
use crate::rules::cache_policy::{CACHE_CONTROL_TAGGED, CACHE_CONTROL_UNTAGGED};
use crate::rules::static_url::encoded_static_path;

/// The `_headers` file's key, at the destination's root (Netlify and Cloudflare Pages read it
/// there).
pub(super) const HEADERS_FILE: &str = "_headers";
/// Its first line: a `_headers` without it is the user's, never overwritten.
pub(super) const HEADERS_MARKER: &str = "# Written by cachekiller's static export";
/// The nginx snippet for a `server` block serving a folder export.
pub(super) const NGINX_FILE: &str = ".cachekiller/nginx.conf";

/// Which keys get which header: tagged ones (in any manifest) `immutable`, plain ones (in any
/// manifest, and tagged in none) `no-cache`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct CachePolicies {
    pub(super) tagged: BTreeSet<String>,
    pub(super) plain: BTreeSet<String>,
}

impl CachePolicies {
    /// The policies of the objects `manifests` name.
    pub(super) fn of<'a>(manifests: impl IntoIterator<Item = &'a ExportManifest>) -> Self {
        let mut policies = CachePolicies::default();
        for manifest in manifests {
            policies.tagged.extend(manifest.tagged_keys());
            policies.plain.extend(
                manifest
                    .files
                    .values()
                    .filter(|entry| !entry.tagged)
                    .map(|entry| entry.key.clone()),
            );
        }
        let tagged = &policies.tagged;
        policies.plain.retain(|key| !tagged.contains(key));
        policies
    }

    /// The `_headers` file (Netlify, Cloudflare Pages): one rule per URL, no wildcards, so
    /// that no rule's header is merged into another's.
    pub(super) fn headers_file(&self) -> String {
        let mut file = format!(
            "{HEADERS_MARKER}: rewritten by every export and collection; edit the export, not \
             this file.\n# Tagged names (their bytes never change): {CACHE_CONTROL_TAGGED}. Plain names: \
             {CACHE_CONTROL_UNTAGGED}.\n"
        );
        for (keys, cache_control) in [
            (&self.tagged, CACHE_CONTROL_TAGGED),
            (&self.plain, CACHE_CONTROL_UNTAGGED),
        ] {
            // A `*` is a splat and a `:` starts a placeholder to these hosts: as
            // a rule it would match other names too (and Cloudflare merges the headers of every
            // rule that matches). Such a name gets no rule, so the host's default: never
            // `immutable` for another file.
            for key in keys.iter().filter(|key| !is_pattern(key)) {
                let _ = write!(
                    file,
                    "/{}\n  Cache-Control: {cache_control}\n",
                    encoded_static_path(key)
                );
            }
        }
        file
    }

    /// The nginx snippet for a `server` block serving the folder `root` (absolute): its
    /// files, their `.br` and `.gz` siblings to clients that accept them (with `Vary`, so that a
    /// shared cache keeps each encoding apart), `no-cache` for everything, and one exact
    /// `location` per tagged name with `immutable`. Exact locations, not a `map`: a map's keys
    /// must fit `map_hash_bucket_size` (64 bytes by default, an `http`-level setting), which a
    /// long file name exceeds.
    pub(super) fn nginx_server(&self, root: &str) -> String {
        // nginx reads variables in `root`, and a `$` has no escape there.
        let root_line = if root.contains('$') {
            format!(
                "# root: the folder's path ({root}) holds a `$`, which nginx would read as a \
                 variable: set it by hand.\n    # root \"{}\";",
                nginx_quoted(root)
            )
        } else {
            format!("root \"{}\";", nginx_quoted(root))
        };
        let mut snippet = format!(
            "# Written by cachekiller's static export: include it in a `server` block, and reload\n\
             # nginx after each export (the tagged names below are the exports' files). `root` is\n\
             # the folder's path at export time. A tagged name's header is sent on its answers,\n\
             # not on an error (a 404 is never `immutable`). `brotli_static` needs ngx_brotli (Debian:\n\
             # libnginx-mod-http-brotli-static); without it, delete that line (gzip is still sent).\n\
             location / {{\n    {root_line}\n    gzip_static on;\n    brotli_static on;\n    \
             gzip_vary on;\n    add_header Cache-Control \"{CACHE_CONTROL_UNTAGGED}\" always;\n    \
             location ^~ /.cachekiller/ {{ return 404; }}\n"
        );
        for key in &self.tagged {
            let _ = writeln!(
                snippet,
                "    location = \"/{}\" {{ add_header Cache-Control \"{CACHE_CONTROL_TAGGED}\"; }}",
                nginx_quoted(key)
            );
        }
        snippet.push_str("}\n");
        snippet
    }
}

/// True if `key` would be a pattern in a `_headers` rule.
fn is_pattern(key: &str) -> bool {
    // Cloudflare reads a `:` followed by a letter anywhere in a segment as a placeholder.
    key.contains(['*', ':'])
}

/// `text` inside an nginx double-quoted string. A `$` has no escape in nginx: in a
/// `location =` it is matched literally, and a `root` holding one is not written (see
/// [`CachePolicies::nginx_server`]).
fn nginx_quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::manifest::ManifestEntry;
    use super::*;
    use crate::rules::compression::Encoding;

    fn manifest(entries: &[(&str, bool)]) -> ExportManifest {
        ExportManifest {
            exported_at_ms: 1,
            sequence: 1,
            compressed: true,
            revision: "r".to_owned(),
            mode: "content".to_owned(),
            files: entries
                .iter()
                .map(|(key, tagged)| {
                    (
                        format!("/{key}"),
                        ManifestEntry {
                            key: (*key).to_owned(),
                            path: "p".to_owned(),
                            sha1: String::new(),
                            size: 0,
                            content_type: "text/css".to_owned(),
                            tagged: *tagged,
                            encodings: if *tagged {
                                vec![Encoding::Gzip]
                            } else {
                                vec![]
                            },
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn exactly_the_tagged_names_of_every_manifest_are_immutable() {
        let first = manifest(&[("static/a.11111111.css", true), ("static/a.css", false)]);
        let second = manifest(&[
            ("static/a.22222222.css", true),
            ("static/a.css", false),
            ("static/team photo.png", false),
        ]);
        let policies = CachePolicies::of([&first, &second]);
        let headers = policies.headers_file();
        assert!(headers.starts_with(HEADERS_MARKER));
        for tagged in [
            "/static/a.11111111.css\n",
            "/static/a.11111111.css.gz\n",
            "/static/a.22222222.css\n",
        ] {
            let rule = headers.split(tagged).nth(1).expect(tagged);
            assert!(
                rule.starts_with(&format!("  Cache-Control: {CACHE_CONTROL_TAGGED}\n")),
                "{tagged}"
            );
        }
        for plain in ["/static/a.css\n", "/static/team%20photo.png\n"] {
            let rule = headers.split(plain).nth(1).expect(plain);
            assert!(rule.starts_with("  Cache-Control: no-cache\n"), "{plain}");
        }
        assert_eq!(headers.matches("Cache-Control: ").count(), 4 + 2);
        assert!(
            !headers.contains('*'),
            "no wildcard rule to merge into others"
        );

        let nginx = policies.nginx_server("/srv/site");
        assert!(nginx.contains("add_header Cache-Control \"no-cache\" always;"));
        assert!(nginx.contains("gzip_vary on;"));
        assert_eq!(nginx.matches("immutable\"; }").count(), 4);
        assert!(nginx.contains(
            "location = \"/static/a.11111111.css.gz\" { add_header Cache-Control \"public, max-age=31536000, immutable\"; }"
        ));
        assert!(!nginx.contains("static/a.css\""));
    }

    #[test]
    fn a_name_tagged_in_one_export_is_never_no_cache_from_another() {
        // A real file whose name looks tagged, exported plain, then a tagged name that equals
        // it: the tagged rule wins, and only one rule names it.
        let first = manifest(&[("static/a.11111111.css", false)]);
        let second = manifest(&[("static/a.11111111.css", true)]);
        let policies = CachePolicies::of([&first, &second]);
        assert!(policies.plain.is_empty());
        assert_eq!(
            policies
                .headers_file()
                .matches("/static/a.11111111.css\n")
                .count(),
            1
        );
    }

    #[test]
    fn names_that_are_patterns_to_a_host_get_no_rule() {
        let exported = manifest(&[
            ("static/*.11111111.css", true),
            ("static/:id/a.11111111.css", true),
            ("static/a.11111111.css", true),
        ]);
        let headers = CachePolicies::of([&exported]).headers_file();
        assert!(!headers.contains("/static/*"), "{headers}");
        assert!(!headers.contains("/:id"), "{headers}");
        assert!(headers.contains("/static/a.11111111.css\n"), "{headers}");
    }

    #[test]
    fn nginx_strings_are_quoted() {
        assert_eq!(nginx_quoted(r#"a"b\c$d"#), r#"a\"b\\c$d"#);
        assert!(CachePolicies::default()
            .nginx_server("/srv/my \"site\"")
            .contains(r#"root "/srv/my \"site\"";"#));
        // A `$` in `root` would be a variable: the line is left for the user to write.
        let dollar = CachePolicies::default().nginx_server("/srv/$host");
        assert!(dollar.contains("    # root \"/srv/$host\";"), "{dollar}");
        assert!(!dollar.contains("\n    root "), "{dollar}");
    }
}
