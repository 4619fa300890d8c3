//! Typed API errors that keep what the server said.

use crate::snapshot::Incomplete;

/// An API call that failed, with what the server said when it said anything.
///
/// Never holds a token: request headers are not kept.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error status.
    #[error("{method} `{path}` answered HTTP {status}{}: {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Http {
        /// Request method.
        method: String,
        /// Request path (no query string: queries can carry names but never secrets; kept short).
        path: String,
        /// HTTP status.
        status: u16,
        /// The API's `error_code`, when the body had one.
        code: Option<String>,
        /// The API's message, or the start of the raw body when it was not the API's shape.
        message: String,
    },
    /// The request never got an answer (connection refused, reset, timeout).
    #[error("{method} `{path}` failed: {message}")]
    Transport {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The answer was not the JSON expected (truncated, malformed, wrong shape).
    #[error("{method} `{path}` returned a malformed answer: {message}; body starts `{excerpt}`")]
    Decode {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// What the decoder said.
        message: String,
        /// The start of the body, for a person to look at.
        excerpt: String,
    },
    /// Pagination that does not end (a repeated token, pages past the total, the page cap).
    #[error("listing `{path}` did not end: {reason}")]
    Pagination {
        /// Request path.
        path: String,
        /// Why the listing was cut off.
        reason: String,
    },
    /// Credentials could not be obtained (OAuth token endpoint failed).
    #[error("authentication failed for `{host}`: {message}")]
    Auth {
        /// The workspace host.
        host: String,
        /// What failed (never the secret).
        message: String,
    },
}

impl ApiError {
    /// The HTTP status, for HTTP errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the credentials were refused (401) or lack rights everywhere (403 on `/Me`-like calls).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            ApiError::Http { status: 401, .. } | ApiError::Auth { .. }
        )
    }

    /// True for a 404 / `RESOURCE_DOES_NOT_EXIST`, or the 400 "does not exist"
    /// that clusters/get, jobs/get and runs/get answer for a missing id.
    pub fn is_not_found(&self) -> bool {
        match self {
            ApiError::Http { status: 404, .. } => true,
            ApiError::Http {
                status: 400,
                code,
                message,
                ..
            } => {
                code.as_deref() == Some("RESOURCE_DOES_NOT_EXIST")
                    || message.contains("does not exist")
            }
            _ => false,
        }
    }

    /// The reason recorded in a snapshot for a kind this error made incomplete.
    pub fn to_incomplete(&self) -> Incomplete {
        match self {
            ApiError::Http { status, code, .. } => Incomplete {
                http_status: Some(*status),
                error_code: code.clone(),
                message: self.to_string(),
            },
            _ => Incomplete {
                http_status: None,
                error_code: None,
                message: self.to_string(),
            },
        }
    }
}
