//! An Askama page whose asset URLs are tagged at compile time, served by axum: the page's
//! assets are cached for a year as `immutable` and compressed, and every commit gives them
//! new URLs. `cargo run`, then open http://127.0.0.1:3000/.

use askama::Template;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use cachekiller_core::service::StaticFiles;
// The macros must be in scope where the template struct is defined: Askama's generated code
// calls them there (or write `cachekiller_macros::cdnstatic!(…)` in the template).
use cachekiller_macros::{cdnintegrity, cdnsettings, cdnstatic};

#[derive(Template)]
#[template(path = "index.html")]
struct Home;

async fn home() -> Html<String> {
    Html(Home.render().expect("the page renders"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In development the static files are beside Cargo.toml; a deployment copies them and
    // says where (see the Dockerfile). A missing directory stops the server here, naming it.
    let static_dir = std::env::var("STATIC_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/static").to_owned());
    let app = Router::new()
        .route("/", get(home))
        .nest_service("/static", StaticFiles::new(static_dir, cdnsettings!())?);
    let address = std::env::var("ADDRESS").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
