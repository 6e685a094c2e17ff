//! Large responses written as they are sent, a few thousand items at a
//! time, instead of built whole in memory first (a million-point curve as
//! one JSON value took hundreds of MB per request).

use std::sync::Arc;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Serialize;

/// Items serialised per chunk of the body.
const CHUNK: usize = 4096;

/// `items` as one JSON array, streamed.
pub fn json_array<T: Serialize + Send + Sync + 'static>(items: Vec<T>) -> Response {
    let items = Arc::new(items);
    let n = items.len();
    let chunks = stream::iter((0..=n.div_ceil(CHUNK)).map(move |c| {
        let mut out = Vec::new();
        if c == 0 {
            out.push(b'[');
        }
        for i in (c * CHUNK)..((c + 1) * CHUNK).min(n) {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &items[i]).map_err(std::io::Error::other)?;
        }
        if c == n.div_ceil(CHUNK) {
            out.push(b']');
        }
        Ok::<_, std::io::Error>(out)
    }));
    ([(header::CONTENT_TYPE, "application/json")], Body::from_stream(chunks)).into_response()
}

/// `rows` as CSV after `header`, each row written by `row`, streamed.
pub fn csv<T: Send + Sync + 'static>(
    header: &'static str,
    rows: Vec<T>,
    row: impl Fn(&T) -> String + Send + Sync + 'static,
) -> Response {
    let rows = Arc::new(rows);
    let n = rows.len();
    let chunks = stream::iter((0..=n.div_ceil(CHUNK)).map(move |c| {
        let mut out = if c == 0 { format!("{header}\n") } else { String::new() };
        for r in &rows[(c * CHUNK).min(n)..((c + 1) * CHUNK).min(n)] {
            out.push_str(&row(r));
            out.push('\n');
        }
        Ok::<_, std::io::Error>(out)
    }));
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], Body::from_stream(chunks)).into_response()
}
