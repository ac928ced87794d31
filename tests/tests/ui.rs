//! Every compile error a user can see, pinned by trybuild: each message is reviewed like an API.

#[test]
fn compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
