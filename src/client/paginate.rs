//! Every pagination scheme the API uses, each guarded against listings that
//! never end: a repeated token, pages past `totalResults`, or the page cap
//! end the listing with [`ApiError::Pagination`] instead of a hang.

use std::collections::HashSet;

use serde_json::Value;

use super::error::ApiError;
use super::http::Client;

/// How a `page_token` style listing names its parts.
#[derive(Clone, Copy, Debug)]
pub struct TokenPaging {
    /// The array of items in each page (`jobs`, `clusters`, `catalogs`, ...).
    pub items: &'static str,
    /// The query parameter carrying the token (`page_token`; repos use `next_page_token`).
    pub request_param: &'static str,
    /// The response field carrying the next token.
    pub response_field: &'static str,
}

impl TokenPaging {
    /// The common scheme: `page_token` in, `next_page_token` out.
    pub const fn page_token(items: &'static str) -> Self {
        TokenPaging {
            items,
            request_param: "page_token",
            response_field: "next_page_token",
        }
    }
}

impl Client {
    /// Lists a `page_token`/`next_page_token` endpoint to the end.
    ///
    /// A page may be empty yet carry a token (Unity Catalog does this), so only
    /// a missing or empty token ends the listing.
    pub async fn list_pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        paging: TokenPaging,
    ) -> Result<Vec<Value>, ApiError> {
        self.list_pages_with(path, query, paging, |item| item).await
    }

    /// [`list_pages`](Self::list_pages), turning each item into `T` as its
    /// page arrives, so a long listing is never held as one `Value` tree
    /// (a tree costs about ten times its JSON text).
    pub async fn list_pages_with<T>(
        &self,
        path: &str,
        query: &[(&str, String)],
        paging: TokenPaging,
        mut each: impl FnMut(Value) -> T,
    ) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        for _ in 0..self.config().max_pages {
            let mut q = query.to_vec();
            if let Some(t) = &token {
                q.push((paging.request_param, t.clone()));
            }
            let mut page = self.get(path, &q).await?;
            items.extend(
                take_array(&mut page, paging.items, path)?
                    .into_iter()
                    .map(&mut each),
            );
            match page.get(paging.response_field).and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    if !seen.insert(next.to_owned()) {
                        return Err(endless(
                            path,
                            format!("the server repeated page token `{}`", short(next)),
                        ));
                    }
                    token = Some(next.to_owned());
                }
                _ => return Ok(items),
            }
        }
        Err(endless(
            path,
            format!("more than {} pages", self.config().max_pages),
        ))
    }

    /// Lists a SCIM endpoint with `startIndex`/`count`.
    ///
    /// Stops at an empty page or once `totalResults` items arrived; items are
    /// de-duplicated by `id`, as the SDKs do, since SCIM pages can overlap.
    pub async fn list_scim(
        &self,
        path: &str,
        query: &[(&str, String)],
        count: usize,
    ) -> Result<Vec<Value>, ApiError> {
        self.list_scim_with(path, query, count, |item| item).await
    }

    /// [`list_scim`](Self::list_scim), turning each item into `T` as its
    /// page arrives (de-duplication by `id` happens before).
    pub async fn list_scim_with<T>(
        &self,
        path: &str,
        query: &[(&str, String)],
        count: usize,
        mut each: impl FnMut(Value) -> T,
    ) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut ids = HashSet::new();
        let mut start = 1usize;
        for _ in 0..self.config().max_pages {
            let mut q = query.to_vec();
            q.push(("startIndex", start.to_string()));
            q.push(("count", count.to_string()));
            let mut page = self.get(path, &q).await?;
            let total = page.get("totalResults").and_then(Value::as_u64);
            let resources = take_array(&mut page, "Resources", path)?;
            if resources.is_empty() {
                return Ok(items);
            }
            let got = resources.len();
            for r in resources {
                let id = r.get("id").and_then(Value::as_str).map(str::to_owned);
                if id.is_none_or(|id| ids.insert(id)) {
                    items.push(each(r));
                }
            }
            if let Some(total) = total {
                if items.len() as u64 >= total {
                    return Ok(items);
                }
                if start as u64 > total {
                    return Err(endless(
                        path,
                        format!("pages continue past totalResults {total}"),
                    ));
                }
            }
            start += got;
        }
        Err(endless(
            path,
            format!("more than {} pages", self.config().max_pages),
        ))
    }
}

/// Takes the array `field` out of a page; a missing or null field is an empty page.
pub fn take_array(page: &mut Value, field: &str, path: &str) -> Result<Vec<Value>, ApiError> {
    match page.get_mut(field).map(Value::take) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(ApiError::Decode {
            method: "GET".into(),
            path: path.to_owned(),
            message: format!("`{field}` should be an array"),
            excerpt: short(&other.to_string()),
        }),
    }
}

fn endless(path: &str, reason: String) -> ApiError {
    ApiError::Pagination {
        path: path.to_owned(),
        reason,
    }
}

fn short(text: &str) -> String {
    text.chars().take(60).collect()
}
