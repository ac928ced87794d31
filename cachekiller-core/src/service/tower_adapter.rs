//! The tower adapter: [`StaticFiles`] is a tower `Service` (axum's `nest_service`, and poem or
//! salvo through their tower compatibility). It converts types and nothing else.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::{StaticBody, StaticFiles, StaticRequest};

impl<ReqBody> Service<Request<ReqBody>> for StaticFiles {
    type Response = Response<StaticBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (parts, _body) = request.into_parts();
        let service = self.clone();
        Box::pin(async move {
            let request = StaticRequest {
                method: &parts.method,
                path: parts.uri.path(),
                query: parts.uri.query(),
                headers: &parts.headers,
            };
            Ok(service.respond_to(&request).await)
        })
    }
}
