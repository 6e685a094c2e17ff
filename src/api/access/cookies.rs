//! The service page's session cookies.

use axum::http::{header, HeaderMap};

/// The cookie holding the token of the page's session (HttpOnly).
pub const SESSION_COOKIE: &str = "bt_session";
/// The cookie the page reads to send back as [`CSRF_HEADER`] on writes.
pub const CSRF_COOKIE: &str = "bt_csrf";
/// The header a write made with the session cookie must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` among the request's `Cookie` headers.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; bt_csrf=abc".parse().unwrap());
        headers.append(header::COOKIE, "bt_session=btk_x".parse().unwrap());
        assert_eq!(get(&headers, "bt_csrf").as_deref(), Some("abc"));
        assert_eq!(get(&headers, "bt_session").as_deref(), Some("btk_x"));
        assert_eq!(get(&headers, "b"), None);
    }
}
