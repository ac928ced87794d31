//! The actix-web adapter (feature `actix`): [`ActixStaticFiles`] mounts a [`StaticFiles`] the
//! way `actix_files::Files` is mounted, `App::new().service(ActixStaticFiles::new("/static",
//! files))`, or as the app's `default_service`. It converts actix-web's types (on `http` 0.2)
//! to the service's and back, and nothing else: the request's work runs on actix's own
//! runtime (its blocking pool for reads), with no runtime of ours.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{
    AppService, HttpServiceFactory, ResourceDef, Service, ServiceFactory, ServiceRequest,
    ServiceResponse,
};
use actix_web::HttpResponse;
use bytes::Bytes;
use http_body::Body as _;

use super::response::declared_length;
use super::{read_headers, StaticBody, StaticFiles, StaticRequest};

/// A [`StaticFiles`] mounted in an actix-web app under a path, as `actix_files::Files` is:
///
/// ```ignore
/// use cachekiller_core::service::actix::ActixStaticFiles;
///
/// let files = StaticFiles::in_root(env!("CARGO_MANIFEST_DIR"), cdnsettings!())?;
/// HttpServer::new(move || {
///     App::new()
///         .service(ActixStaticFiles::new("/static", files.clone()))
///         .route("/", web::get().to(index))
/// })
/// ```
///
/// It is also a service factory, for `App::new().default_service(...)` (every path the app's
/// routes do not take is a static path from the root). Every answer is the service's, `404`
/// included.
#[derive(Debug, Clone)]
pub struct ActixStaticFiles {
    mount_path: String,
    files: StaticFiles,
}

impl ActixStaticFiles {
    /// `files` under `mount_path` (`"/static"`; `""` or `"/"` for the root).
    #[must_use]
    pub fn new(mount_path: &str, files: StaticFiles) -> Self {
        ActixStaticFiles {
            mount_path: mount_path.trim_end_matches('/').to_owned(),
            files,
        }
    }
}

impl HttpServiceFactory for ActixStaticFiles {
    fn register(self, config: &mut AppService) {
        let definition = if config.is_root() {
            ResourceDef::root_prefix(&self.mount_path)
        } else {
            ResourceDef::prefix(&self.mount_path)
        };
        config.register_service(definition, None, self, None);
    }
}

impl ServiceFactory<ServiceRequest> for ActixStaticFiles {
    type Response = ServiceResponse;
    type Error = actix_web::Error;
    type Config = ();
    type Service = ActixStaticFilesService;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Service, ()>>;

    fn new_service(&self, (): ()) -> Self::Future {
        std::future::ready(Ok(ActixStaticFilesService {
            files: Rc::new(self.files.clone()),
        }))
    }
}

/// The service [`ActixStaticFiles`] makes for each of actix's workers.
#[derive(Debug, Clone)]
pub struct ActixStaticFilesService {
    files: Rc<StaticFiles>,
}

impl Service<ServiceRequest> for ActixStaticFilesService {
    type Response = ServiceResponse;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    fn poll_ready(&self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let files = Rc::clone(&self.files);
        Box::pin(async move {
            let method = http::Method::from_bytes(request.method().as_str().as_bytes())
                .unwrap_or(http::Method::OPTIONS);
            let headers = read_headers(
                request
                    .headers()
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_bytes())),
            );
            let query = request.query_string();
            let answer = files
                .respond_to(&StaticRequest {
                    method: &method,
                    // Below the mount, decoded by actix except for `%`, `/` and `+`, which
                    // the service decodes (once).
                    path: request.match_info().unprocessed(),
                    query: (!query.is_empty()).then_some(query),
                    headers: &headers,
                })
                .await;
            Ok(request.into_response(actix_response(answer).map_into_boxed_body()))
        })
    }
}

/// The service's response in actix-web's types.
fn actix_response(answer: http::Response<StaticBody>) -> HttpResponse<ActixBody> {
    let (parts, body) = answer.into_parts();
    let status = actix_web::http::StatusCode::from_u16(parts.status.as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let length = declared_length(parts.status, &parts.headers, &body);
    let mut response = HttpResponse::with_body(status, ActixBody { body, length });
    let headers = response.headers_mut();
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    response
}

/// A [`StaticBody`] as actix-web sends it.
#[derive(Debug)]
struct ActixBody {
    body: StaticBody,
    length: Option<u64>,
}

impl MessageBody for ActixBody {
    type Error = std::io::Error;

    fn size(&self) -> BodySize {
        self.length.map_or(BodySize::None, BodySize::Sized)
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        // The service's bodies have data frames only (no trailers).
        match Pin::new(&mut self.body).poll_frame(context) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(frame)) => Poll::Ready(Some(
                frame.map(|frame| frame.into_data().unwrap_or_default()),
            )),
        }
    }
}
