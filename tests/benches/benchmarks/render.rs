//! The `render` section (see the list in `main.rs`).

use std::time::{Duration, Instant};

use crate::common::{median, Report};
use askama::Template;
use cachekiller_macros::cdnstatic;
use maud::{html, Markup, PreEscaped};

#[derive(Template)]
#[template(
    source = r#"<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m0") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m1") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m2") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m3") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m4") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m5") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m6") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m7") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m8") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m9") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m10") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m11") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m12") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m13") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m14") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m15") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m16") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m17") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m18") }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m19") }}">"#,
    ext = "html"
)]
pub(crate) struct AskamaMacroUrls;

#[derive(Template)]
#[template(
    source = r#"<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m0")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m1")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m2")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m3")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m4")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m5")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m6")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m7")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m8")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m9")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m10")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m11")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m12")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m13")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m14")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m15")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m16")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m17")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m18")|safe }}">
<link rel="preload" href="{{ cdnstatic!("img/logo.svg#m19")|safe }}">"#,
    ext = "html"
)]
pub(crate) struct AskamaMacroUrlsSafe;

#[derive(Template)]
#[template(
    source = r#"<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m0">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m1">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m2">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m3">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m4">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m5">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m6">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m7">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m8">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m9">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m10">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m11">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m12">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m13">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m14">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m15">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m16">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m17">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m18">
<link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m19">"#,
    ext = "html"
)]
pub(crate) struct AskamaLiteralUrls;

pub(crate) fn maud_macro_urls() -> Markup {
    html! {
        head {
            link rel="preload" href=(cdnstatic!("img/logo.svg#m0"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m1"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m2"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m3"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m4"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m5"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m6"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m7"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m8"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m9"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m10"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m11"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m12"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m13"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m14"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m15"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m16"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m17"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m18"));
            link rel="preload" href=(cdnstatic!("img/logo.svg#m19"));
        }
    }
}

pub(crate) fn maud_macro_urls_pre_escaped() -> Markup {
    html! {
        head {
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m0")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m1")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m2")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m3")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m4")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m5")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m6")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m7")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m8")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m9")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m10")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m11")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m12")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m13")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m14")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m15")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m16")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m17")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m18")));
            link rel="preload" href=(PreEscaped(cdnstatic!("img/logo.svg#m19")));
        }
    }
}

pub(crate) fn maud_literal_urls() -> Markup {
    html! {
        head {
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m0";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m1";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m2";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m3";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m4";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m5";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m6";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m7";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m8";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m9";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m10";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m11";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m12";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m13";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m14";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m15";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m16";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m17";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m18";
            link rel="preload" href="/static/img/logo.svg?tag=0123456789abcd#m19";
        }
    }
}

/// Median time per render of each of `renders`, measured in interleaved rounds.
pub(crate) fn time_renders(rounds: usize, renders: &[&dyn Fn() -> usize]) -> Vec<Duration> {
    const ITERATIONS: u32 = 20_000;
    let mut samples = vec![Vec::new(); renders.len()];
    for _ in 0..rounds.max(5) {
        for (index, render) in renders.iter().enumerate() {
            let started = Instant::now();
            for _ in 0..ITERATIONS {
                std::hint::black_box(render());
            }
            samples[index].push(started.elapsed() / ITERATIONS);
        }
    }
    samples.into_iter().map(median).collect()
}

pub(crate) fn render(report: &mut Report, rounds: usize) {
    println!("render, 20 URLs per page:");
    // The macro URLs carry the real tag, the literal ones a made-up tag of the same length:
    // the pages have the same size.
    assert_eq!(
        AskamaMacroUrls.render().unwrap().len(),
        AskamaLiteralUrls.render().unwrap().len()
    );
    assert_eq!(
        maud_macro_urls().into_string().len(),
        maud_literal_urls().into_string().len()
    );
    let mut buffer = String::with_capacity(4096);
    let mut askama = |template: &dyn askama::DynTemplate| {
        buffer.clear();
        template.dyn_render_into(&mut buffer).unwrap();
        buffer.len()
    };
    let askama_times = {
        let askama = std::cell::RefCell::new(&mut askama);
        time_renders(
            rounds,
            &[
                &|| (askama.borrow_mut())(&AskamaLiteralUrls),
                &|| (askama.borrow_mut())(&AskamaMacroUrls),
                &|| (askama.borrow_mut())(&AskamaMacroUrlsSafe),
            ],
        )
    };
    let maud_times = time_renders(
        rounds,
        &[
            &|| maud_literal_urls().into_string().len(),
            &|| maud_macro_urls().into_string().len(),
            &|| maud_macro_urls_pre_escaped().into_string().len(),
        ],
    );
    let nanos = |duration: Duration| format!("{} ns", duration.as_nanos());
    let ratio = |ours: Duration, baseline: Duration| {
        format!("{:.2}", ours.as_secs_f64() / baseline.as_secs_f64())
    };
    for (engine, times, plain, unescaped) in [
        (
            "Askama",
            &askama_times,
            "`{{ cdnstatic!(…) }}`",
            "`{{ cdnstatic!(…)|safe }}`",
        ),
        (
            "Maud",
            &maud_times,
            "`href=(cdnstatic!(…))`",
            "`href=(PreEscaped(cdnstatic!(…)))`",
        ),
    ] {
        report.row(
            &format!("{engine} render, 20 URLs: {plain}"),
            nanos(times[1]),
            format!("literals {}", nanos(times[0])),
            ratio(times[1], times[0]),
        );
        report.row(
            &format!("{engine} render, 20 URLs: {unescaped}"),
            nanos(times[2]),
            format!("literals {}", nanos(times[0])),
            ratio(times[2], times[0]),
        );
    }
}

// ---------------------------------------------------------------------------------------
// expansion
