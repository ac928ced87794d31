//! cargo reads what rustc tracked from a dep-info file with one path per line: a file whose
//! name holds a line break cannot be written there, and cargo then rebuilt the crate on every
//! build without ever tracking the file. Such a name is a compile error that says so.

use cachekiller_tests::scratch::ScratchCrate;

#[test]
fn a_hashed_file_whose_name_holds_a_line_break_is_a_compile_error() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = ScratchCrate::standalone(
        &dir.path().join("site"),
        "untrackable_file_name",
        "fn main() {\n    println!(\"{}\", cachekiller_macros::cdnintegrity!(\"img/a\\nb.png\"));\n}\n",
        "",
    );
    std::fs::create_dir_all(scratch.dir.join("static/img")).unwrap();
    std::fs::write(scratch.dir.join("static/img/a\nb.png"), "png").unwrap();
    let message = scratch.build_failure(&[]);
    assert!(message.contains("line break"), "{message}");
    assert!(message.contains("rename"), "{message}");
    assert!(
        message.contains("cdnintegrity!(\"img/a\\nb.png\")"),
        "{message}"
    );
}
