//! Errors of the mock: what the store reports (HTTP-agnostic) and how the
//! response layer turns it into the API's error bodies.
//!
//! The store speaks of meanings ("no such object", "wrong state"); only
//! [`ApiError`] knows statuses and `error_code`s, as dropshot's `HttpError`
//! does. SCIM routes answer in SCIM's own error shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What went wrong in the store, without any HTTP in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist (`RESOURCE_DOES_NOT_EXIST`).
    #[error("{0}")]
    NotFound(String),
    /// An id in a request names nothing, on the endpoints where the service
    /// answers that as a bad parameter (`clusters/get`, `jobs/get`, `runs/get`).
    #[error("{0}")]
    UnknownId(String),
    /// A parameter is missing or has a value the service rejects.
    #[error("{0}")]
    Invalid(String),
    /// The body is not JSON at all.
    #[error("{0}")]
    Malformed(String),
    /// The object to create exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// The object is in a state that does not allow the operation.
    #[error("{0}")]
    InvalidState(String),
    /// The caller may not do this (or read this).
    #[error("{0}")]
    PermissionDenied(String),
    /// A folder to delete is not empty and `recursive` was not set.
    #[error("{0}")]
    NotEmpty(String),
    /// A Unity Catalog securable does not exist; the code names its type
    /// (`CATALOG_DOES_NOT_EXIST`, `SCHEMA_DOES_NOT_EXIST`, `TABLE_DOES_NOT_EXIST`).
    #[error("{message}")]
    CatalogNotFound {
        /// The UC error code.
        code: &'static str,
        /// The message.
        message: String,
    },
}

/// An error as the API sends it: status, `error_code`, `message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The API's `error_code`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Answer in SCIM's error shape (`detail`, `status`) instead.
    pub scim: bool,
    /// Seconds for a `Retry-After` header (throttling answers).
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with the given status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            scim: false,
            retry_after: None,
        }
    }

    /// 400 `INVALID_PARAMETER_VALUE`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 404 `RESOURCE_DOES_NOT_EXIST`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
    }

    /// 404 `ENDPOINT_NOT_FOUND`, what the gateway answers for an unknown route.
    pub fn no_endpoint(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
            format!("No API found for '{method} {path}'"),
        )
    }

    /// 401 for a missing or wrong bearer token.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Credential was not sent or was of an unsupported type for this API.",
        )
    }

    /// 429 `REQUEST_LIMIT_EXCEEDED`, with `Retry-After` when given.
    pub fn throttled(message: impl Into<String>, retry_after: Option<u32>) -> Self {
        ApiError {
            retry_after,
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "REQUEST_LIMIT_EXCEEDED",
                message,
            )
        }
    }

    /// 503 `TEMPORARILY_UNAVAILABLE`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TEMPORARILY_UNAVAILABLE",
            message,
        )
    }

    /// 500 `INTERNAL_ERROR`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }

    /// The same error in SCIM's shape.
    pub fn into_scim(self) -> Self {
        ApiError { scim: true, ..self }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        if self.scim {
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "detail": self.message,
                "status": self.status.as_u16().to_string(),
            })
            .to_string()
        } else {
            serde_json::json!({ "error_code": self.code, "message": self.message }).to_string()
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::UnknownId(m) | StoreError::Invalid(m) => ApiError::invalid(m),
            StoreError::Malformed(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", m)
            }
            StoreError::AlreadyExists(m) => {
                ApiError::new(StatusCode::CONFLICT, "RESOURCE_ALREADY_EXISTS", m)
            }
            StoreError::InvalidState(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "INVALID_STATE", m)
            }
            StoreError::PermissionDenied(m) => {
                ApiError::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", m)
            }
            StoreError::NotEmpty(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "DIRECTORY_NOT_EMPTY", m)
            }
            StoreError::CatalogNotFound { code, message } => {
                ApiError::new(StatusCode::NOT_FOUND, code, message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body()).into_response();
        let content_type = if self.scim {
            "application/scim+json"
        } else {
            "application/json"
        };
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_the_api_status_and_code() {
        let cases = [
            (
                StoreError::NotFound("x".into()),
                404,
                "RESOURCE_DOES_NOT_EXIST",
            ),
            (
                StoreError::UnknownId("Cluster 1 does not exist".into()),
                400,
                "INVALID_PARAMETER_VALUE",
            ),
            (StoreError::Malformed("x".into()), 400, "MALFORMED_REQUEST"),
            (
                StoreError::AlreadyExists("x".into()),
                409,
                "RESOURCE_ALREADY_EXISTS",
            ),
            (StoreError::InvalidState("x".into()), 400, "INVALID_STATE"),
            (
                StoreError::PermissionDenied("x".into()),
                403,
                "PERMISSION_DENIED",
            ),
            (StoreError::NotEmpty("x".into()), 400, "DIRECTORY_NOT_EMPTY"),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status.as_u16(), api.code), (status, code));
        }
    }

    #[test]
    fn scim_errors_use_the_scim_shape() {
        let e = ApiError::not_found("User 7 not found").into_scim();
        let body: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(body["detail"], "User 7 not found");
        assert_eq!(body["status"], "404");
        assert_eq!(
            body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }

    #[test]
    fn throttling_carries_an_integer_retry_after() {
        let response = ApiError::throttled("slow down", Some(2)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
