//! Request and response plumbing shared by every kind's routes: query
//! parameters and JSON bodies parsed into the API's error shape (never a
//! framework rejection), and JSON answers built from stored text.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{ApiError, StoreError};

/// Handler results: a response or the API's error.
pub(crate) type Reply = Result<Response, ApiError>;

/// Query parameters, in order, repeated keys kept (`filter_by.cluster_states=A&…=B`).
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string; undecodable bytes are replaced, never rejected.
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// The first value of a parameter.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a parameter.
    pub(crate) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that must be present and non-empty.
    pub(crate) fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing(key))
    }

    /// An integer parameter.
    pub(crate) fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| v.trim().parse::<i64>().map_err(|_| bad_value(key, v)))
            .transpose()
    }

    /// A required integer parameter.
    pub(crate) fn required_i64(&self, key: &str) -> Result<i64, ApiError> {
        self.i64(key)?.ok_or_else(|| missing(key))
    }

    /// A boolean parameter (`true`/`false`, as the SDKs send them).
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(bad_value(key, v)),
        }
    }
}

/// 400 for a missing required parameter or field.
pub(crate) fn missing(key: &str) -> ApiError {
    ApiError::invalid(format!("Missing required field: {key}"))
}

/// 400 for a parameter whose value has the wrong type.
pub(crate) fn bad_value(key: &str, value: &str) -> ApiError {
    let shown: String = value.chars().take(80).collect();
    ApiError::invalid(format!("Invalid value for parameter {key}: {shown}"))
}

/// Parses a JSON body; an empty body reads as `{}` as the SDKs treat it.
///
/// Text that is not JSON is `MALFORMED_REQUEST`; JSON of the wrong shape or
/// types is `INVALID_PARAMETER_VALUE`, both 400.
pub(crate) fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        let message = strip_position(&e.to_string());
        if e.is_syntax() || e.is_eof() {
            StoreError::Malformed(format!(
                "Invalid JSON given in the body of the request - {message}"
            ))
            .into()
        } else {
            ApiError::invalid(format!("Invalid request body: {message}"))
        }
    })
}

/// A JSON body that must be an object.
pub(crate) fn body_object(bytes: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    match body::<Value>(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(StoreError::Malformed(
            "Invalid JSON given in the body of the request - expected a map".into(),
        )
        .into()),
    }
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub(crate) fn multipart_boundary(content_type: Option<&str>) -> Option<String> {
    let ct = content_type?;
    let (kind, params) = ct.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The named parts of a `multipart/form-data` body (what the Python SDK's
/// `workspace.upload` sends): (name, bytes).
pub(crate) fn multipart_fields(
    boundary: &str,
    body: &[u8],
) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    let bad = || StoreError::Malformed("Invalid multipart/form-data body".into());
    let delimiter = format!("--{boundary}");
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut fields = Vec::new();
    let mut pos = find(body, delimiter.as_bytes(), 0).ok_or_else(bad)? + delimiter.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(fields);
        }
        // Skip the line break after the delimiter.
        pos = find(body, b"\r\n", pos).ok_or_else(bad)? + 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(bad)?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let content_start = head_end + 4;
        let next =
            find(body, format!("\r\n{delimiter}").as_bytes(), content_start).ok_or_else(bad)?;
        let name = head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .flat_map(|l| l.split(';'))
            .find_map(|p| {
                p.trim()
                    .strip_prefix("name=")
                    .map(|n| n.trim_matches('"').to_owned())
            })
            .ok_or_else(bad)?;
        fields.push((name, body[content_start..next].to_vec()));
        pos = next + 2 + delimiter.len();
    }
}

/// serde's message without its " at line L column C" suffix.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A 200 answer with JSON text.
pub(crate) fn json(text: String) -> Response {
    json_status(StatusCode::OK, text)
}

/// A 200 answer with JSON text kept as shared bytes (a rendered reply).
pub(crate) fn json_bytes(bytes: Bytes) -> Response {
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An answer with a status and JSON text.
pub(crate) fn json_status(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A 200 answer of a serializable value.
pub(crate) fn json_value(value: &Value) -> Response {
    json(value.to_string())
}

/// The `{}` that most writes answer.
pub(crate) fn empty() -> Response {
    json("{}".to_owned())
}

/// 204 with no body.
pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Builds a JSON object text piece by piece from stored docs and scalars,
/// so list pages are copies of stored bytes.
#[derive(Debug)]
pub(crate) struct Out {
    buf: String,
    first: bool,
}

impl Out {
    /// Starts an object.
    pub(crate) fn object() -> Out {
        let mut buf = String::with_capacity(4096);
        buf.push('{');
        Out { buf, first: true }
    }

    /// Makes room for `n` more bytes (a large page is then copied once).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.buf.reserve(n);
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.buf.push(',');
        }
        self.first = false;
        self.buf.push('"');
        self.buf.push_str(key);
        self.buf.push_str("\":");
    }

    /// Adds `"key": [docs...]`.
    pub(crate) fn array<'a>(
        &mut self,
        key: &str,
        docs: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        self.key(key);
        self.buf.push('[');
        for (i, d) in docs.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            self.buf.push_str(d);
        }
        self.buf.push(']');
        self
    }

    /// Adds `"key": [docs...]` only when there is at least one doc (the API
    /// omits empty arrays).
    pub(crate) fn array_nonempty<'a>(
        &mut self,
        key: &str,
        docs: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        let mut docs = docs.into_iter().peekable();
        if docs.peek().is_some() {
            self.array(key, docs);
        }
        self
    }

    /// Adds `"key": [docs...]`, each doc in two pieces, only when there is
    /// at least one doc (the API omits empty arrays).
    pub(crate) fn array_pieces<'a>(
        &mut self,
        key: &str,
        docs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> &mut Self {
        let mut docs = docs.into_iter().peekable();
        if docs.peek().is_none() {
            return self;
        }
        self.key(key);
        self.buf.push('[');
        for (i, (head, rest)) in docs.enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            self.buf.push_str(head);
            self.buf.push_str(rest);
        }
        self.buf.push(']');
        self
    }

    /// Adds `"key": value`.
    pub(crate) fn value(&mut self, key: &str, value: &Value) -> &mut Self {
        self.key(key);
        self.buf.push_str(&value.to_string());
        self
    }

    /// Adds `"key": "text"`.
    pub(crate) fn string(&mut self, key: &str, text: &str) -> &mut Self {
        self.value(key, &Value::from(text))
    }

    /// Adds `"key": "text"` when there is a text.
    pub(crate) fn opt_string(&mut self, key: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.string(key, t);
        }
        self
    }

    /// Adds `"key": raw JSON`.
    pub(crate) fn raw(&mut self, key: &str, raw: &str) -> &mut Self {
        self.key(key);
        self.buf.push_str(raw);
        self
    }

    /// Closes the object.
    pub(crate) fn finish(&mut self) -> String {
        let mut buf = std::mem::take(&mut self.buf);
        buf.push('}');
        buf
    }

    /// Closes the object into a 200 answer.
    pub(crate) fn reply(&mut self) -> Response {
        json(self.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_repeats_and_types_values() {
        let q = Query::parse(Some("a=1&s=x%20y&s=z&b=true&n=abc"));
        assert_eq!(q.i64("a").unwrap(), Some(1));
        assert_eq!(q.all("s").collect::<Vec<_>>(), ["x y", "z"]);
        assert_eq!(q.bool("b").unwrap(), Some(true));
        let e = q.i64("n").unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code),
            (400, "INVALID_PARAMETER_VALUE")
        );
        assert_eq!(
            q.required("missing").unwrap_err().message,
            "Missing required field: missing"
        );
    }

    #[test]
    fn bodies_distinguish_bad_json_from_bad_types() {
        #[derive(serde::Deserialize, Debug)]
        struct B {
            #[expect(dead_code, reason = "only the type matters")]
            job_id: i64,
        }
        let bad_json = body::<B>(&Bytes::from_static(b"{not json")).unwrap_err();
        assert_eq!(bad_json.code, "MALFORMED_REQUEST");
        let bad_type = body::<B>(&Bytes::from_static(br#"{"job_id":"x"}"#)).unwrap_err();
        assert_eq!(bad_type.code, "INVALID_PARAMETER_VALUE");
        assert!(!bad_type.message.contains("line"), "{}", bad_type.message);
        assert!(body::<Value>(&Bytes::new()).unwrap().is_object());
        assert_eq!(
            body_object(&Bytes::from_static(b"[1]")).unwrap_err().code,
            "MALFORMED_REQUEST"
        );
    }

    #[test]
    fn multipart_bodies_are_read() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/a/b\r\n--xyz\r\nContent-Disposition: form-data; name=\"content\"; filename=\"content\"\r\nContent-Type: application/octet-stream\r\n\r\nline1\r\nline2\r\n--xyz--\r\n";
        let boundary = multipart_boundary(Some("multipart/form-data; boundary=xyz")).unwrap();
        let fields = multipart_fields(&boundary, body).unwrap();
        assert_eq!(
            fields,
            vec![
                ("path".to_owned(), b"/a/b".to_vec()),
                ("content".to_owned(), b"line1\r\nline2".to_vec())
            ]
        );
        assert!(multipart_boundary(Some("application/json")).is_none());
        assert!(multipart_fields("xyz", b"garbage").is_err());
    }

    #[test]
    fn out_builds_objects_from_raw_docs() {
        let text = Out::object()
            .array("jobs", [r#"{"a":1}"#, r#"{"b":2}"#])
            .value("has_more", &Value::Bool(false))
            .finish();
        assert_eq!(text, r#"{"jobs":[{"a":1},{"b":2}],"has_more":false}"#);
        let empty = Out::object()
            .array_nonempty("x", std::iter::empty::<&str>())
            .finish();
        assert_eq!(empty, "{}");
    }
}
