//! The expansion is a plain `&'static str`: usable in `const` and `static` items, in a crate
//! that denies warnings, forbids unsafe code and turns on `clippy::pedantic`.
#![deny(warnings)]
#![forbid(unsafe_code)]
#![deny(clippy::pedantic)]

use cachekiller_macros::{cdnstatic, cdntag};
use cachekiller_tests::oracle::workspace_tag;

const APP_CSS: &str = cdnstatic!("css/app.css");
static TAG: &str = cdntag!();
const PRELOADS: [&str; 2] = [cdnstatic!("js/app.js"), cdnstatic!("img/logo.svg")];

#[test]
fn usable_in_const_and_static_items() {
    let tag = workspace_tag();
    assert_eq!(APP_CSS, format!("/static/css/app.css?tag={tag}"));
    assert_eq!(TAG, tag);
    assert_eq!(PRELOADS[1], format!("/static/img/logo.svg?tag={tag}"));
    // Expression positions: match scrutinee, argument, method receiver.
    let length = match cdnstatic!("css/app.css") {
        url if url.ends_with(TAG) => url.len(),
        _ => 0,
    };
    assert_eq!(length, "/static/css/app.css?tag=".len() + tag.len());
    assert!(cdnstatic!("css/app.css").contains("?tag="));
}
