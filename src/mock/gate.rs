//! The one middleware every request passes: outage, bearer token, in-flight
//! cap, latency, limits and seeded faults, then the handler, then the log.
//!
//! Control routes (`/_standby/…`) skip outages (where the connection still
//! works), faults and the log, but not the token check.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::log::Entry;
use super::server::ConnHandle;
use super::state::{MockState, OutageMode};

/// The path prefix of the control API.
pub const CONTROL_PREFIX: &str = "/_standby/";

/// The one unauthenticated API path (the SDKs call it without a token).
const HOST_METADATA: &str = "/.well-known/databricks-config";

/// The middleware.
pub(crate) async fn gate(State(state): State<MockState>, request: Request, next: Next) -> Response {
    let auth = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let path = request.uri().path();
    if path.starts_with(CONTROL_PREFIX) {
        if !state.authorized(auth) {
            return ApiError::unauthenticated().into_response();
        }
        return shape_rejection(next.run(request).await).await;
    }
    let authorized = path == HOST_METADATA || state.authorized(auth);
    // The method and URI are kept for the log after the request moves into
    // the handler: both clone without copying (the URI shares the buffer
    // the request head was read into).
    let method = request.method().clone();
    let uri = request.uri().clone();
    let (path, query) = (uri.path(), uri.query());
    let at_ms = state.now_ms();
    let log = |status: u16, fault: Option<&str>| {
        state.0.log.push(Entry {
            at_ms,
            method: method.as_str(),
            path,
            query,
            status,
            fault,
        });
    };

    if let Some(mode) = state.outage() {
        if mode != OutageMode::Unavailable {
            // Drop the connection under the client: the stream fails its next
            // write, and its socket closes with a reset.
            if let Some(ConnectInfo(conn)) = request.extensions().get::<ConnectInfo<ConnHandle>>() {
                conn.kill();
            }
        }
        let error = ApiError::unavailable("The service is temporarily unavailable.");
        log(error.status.as_u16(), Some("outage"));
        return error.into_response();
    }
    if !authorized {
        let error = ApiError::unauthenticated();
        log(error.status.as_u16(), None);
        return error.into_response();
    }
    let faults = &state.0.faults;
    let in_flight = match faults.enter() {
        Ok(guard) => guard,
        Err(rejection) => {
            log(rejection.error.status.as_u16(), Some(&rejection.fault));
            return rejection.error.into_response();
        }
    };
    let latency = faults.latency_ms();
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    if let Err(rejection) = faults.admit(method.as_str(), path, query) {
        log(rejection.error.status.as_u16(), Some(&rejection.fault));
        return rejection.error.into_response();
    }
    let response = shape_rejection(next.run(request).await).await;
    drop(in_flight);
    log(response.status().as_u16(), None);
    response
}

/// The largest request body accepted (the service's import limit is 10 MB of
/// base64; anything near this is a client mistake).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Turns the framework's plain-text rejections (a body over the limit, a path
/// parameter that is not valid percent-encoded UTF-8) into the API's error
/// shape, so no answer is ever in another shape.
async fn shape_rejection(response: Response) -> Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !response.status().is_client_error() || !plain {
        return response;
    }
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    let error = match status.as_u16() {
        413 => ApiError::invalid(format!(
            "The request body is too large: at most {MAX_BODY_BYTES} bytes are accepted."
        )),
        400 | 415 | 422 => ApiError::invalid(text),
        _ => ApiError::new(status, "BAD_REQUEST", text),
    };
    error.into_response()
}

/// The answer for routes that do not exist, as the API gateway gives it.
pub(crate) async fn no_route(request: Request) -> Response {
    ApiError::no_endpoint(request.method().as_str(), request.uri().path()).into_response()
}
