//! The REST client: one configured `reqwest::Client`, retries with backoff
//! honouring `Retry-After`, bounded concurrency, per-family rate limits,
//! timeouts, every pagination scheme, typed API errors.

mod error;
mod family;
mod http;
mod paginate;

pub use error::ApiError;
pub use family::{Family, RateLimits};
pub use http::{Client, ClientConfig, ClientStats};
pub use paginate::{TokenPaging, take_array};
