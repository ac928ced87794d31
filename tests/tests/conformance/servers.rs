//! The rows of the conformance suite: each server a user may mount `StaticFiles` in, started
//! in this process on a loopback port, serving one `StaticFiles` under `/static` (or, for
//! actix-web's default service, at the root).

use std::net::TcpListener;
use std::time::Duration;

use cachekiller_core::service::StaticFiles;
use cachekiller_tests::serving::wait_until;

/// A server and how it mounts the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// axum 0.8, `Router::nest_service("/static", files)`: the tower service itself.
    Axum,
    /// axum 0.8 with the files compiled in (`StaticFiles::embedded(cdnembed!(…), …)`): the
    /// other source of the same service, the site's files not embedded read from disk.
    AxumEmbedded,
    /// actix-web 4, `App::service(ActixStaticFiles::new("/static", files))`.
    ActixWeb,
    /// actix-web 4, `App::default_service(ActixStaticFiles::new("", files))`: static paths
    /// from the root.
    ActixWebDefaultService,
    /// Rocket 0.5, `rocket.mount("/static", files)`.
    Rocket,
    /// poem 3 through its tower compatibility: `Route::nest("/static", files.compat())`.
    Poem,
    /// salvo 0.85 through its tower compatibility, which hands the service the whole path:
    /// `Router::with_path("static/{**rest}").goal(files.mounted_at("/static").compat())`.
    Salvo,
}

impl Row {
    /// Where the static paths begin in a URL.
    pub fn prefix(self) -> &'static str {
        match self {
            Row::ActixWebDefaultService => "",
            _ => "/static",
        }
    }

    /// Starts the server with `files` on a free loopback port, and returns the port once it
    /// accepts connections. The server runs until the test process ends.
    pub fn start(self, files: StaticFiles) -> u16 {
        // Rocket 0.5 binds its port itself: between the moment the free port is let go and
        // Rocket's bind, no other row of this process may be handed it.
        static BINDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _binding = BINDING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        // Rocket binds the port itself: let it go here, before waiting for the port below,
        // or the wait would reach this listener's backlog (reset when it is dropped).
        let listener = (self != Row::Rocket).then_some(listener);
        std::thread::spawn(move || match (self, listener) {
            (Row::Rocket, _) => rocket_server(port, files),
            (_, None) => unreachable!("every other row keeps its listener"),
            (Row::Axum | Row::AxumEmbedded, Some(listener)) => axum_server(listener, files),
            (Row::ActixWeb, Some(listener)) => actix_server(listener, files, "/static"),
            (Row::ActixWebDefaultService, Some(listener)) => actix_server(listener, files, ""),
            (Row::Poem, Some(listener)) => poem_server(listener, files),
            (Row::Salvo, Some(listener)) => salvo_server(listener, files),
        });
        wait_until(
            &format!("{self:?} to accept connections"),
            Duration::from_secs(30),
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        port
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn axum_server(listener: TcpListener, files: StaticFiles) {
    tokio_runtime().block_on(async move {
        let app = axum::Router::new().nest_service("/static", files);
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}

fn actix_server(listener: TcpListener, files: StaticFiles, mount: &'static str) {
    use actix_web::{middleware::Compress, App, HttpServer};
    use cachekiller_core::service::actix::ActixStaticFiles;
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let static_files = ActixStaticFiles::new(mount, files.clone());
            // Wrapped app-wide in `Compress`, as actix apps commonly are: it must leave the
            // service's answers as they are.
            let app = App::new().wrap(Compress::default());
            if mount.is_empty() {
                app.default_service(static_files)
            } else {
                app.service(static_files)
            }
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap();
        server.run().await.unwrap();
    });
}

fn rocket_server(port: u16, files: StaticFiles) {
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("workers", 2))
        .merge(("log_level", "off"))
        .merge(("shutdown.ctrlc", false));
    let rocket = rocket::custom(figment).mount("/static", files);
    rocket::execute(async move {
        let _ = rocket.launch().await.unwrap();
    });
}

fn poem_server(listener: TcpListener, files: StaticFiles) {
    use poem::endpoint::TowerCompatExt as _;
    use poem::listener::TcpAcceptor;
    tokio_runtime().block_on(async move {
        let app = poem::Route::new().nest("/static", files.compat());
        let acceptor = TcpAcceptor::from_std(listener).unwrap();
        poem::Server::new_with_acceptor(acceptor)
            .run(app)
            .await
            .unwrap();
    });
}

fn salvo_server(listener: TcpListener, files: StaticFiles) {
    use salvo::prelude::*;
    tokio_runtime().block_on(async move {
        // salvo hands a tower service the whole path: the service takes off the mount.
        let files = files.mounted_at("/static");
        let handler = TowerServiceCompat::<salvo::http::ReqBody, _, _, _>::compat(files);
        let router = Router::new().push(Router::with_path("static/{**rest}").goal(handler));
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let acceptor = salvo::conn::tcp::TcpAcceptor::try_from(listener).unwrap();
        Server::new(acceptor).serve(router).await;
    });
}
