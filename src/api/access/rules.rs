//! Which requests need what: the scope of each route, and the `Host` and
//! `Origin` headers a request may carry. Pure functions, tested below.

use axum::http::Method;

use crate::service::accounts::Scope;

/// Whether `method` only reads (and so needs no CSRF check and the `read` scope).
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths anyone may fetch: the page and its assets, the health check, the
/// API's contract, and the sign-in (which takes a token in its body). They
/// hold no user's data.
pub fn is_public(path: &str) -> bool {
    !path.starts_with("/api/")
        || matches!(path, "/api/openapi.json" | "/api/docs" | "/api/session")
        || path.starts_with("/api/docs/")
}

/// The scope a request to `path` with `method` needs: reading is `read`;
/// starting, cancelling and re-running runs and sweeps is `run`; anything
/// else that changes something (uploads, versions, deletions) is `write`.
/// `None` for the session routes, which take a token in their body.
pub fn required_scope(method: &Method, path: &str) -> Option<Scope> {
    if path == "/api/session" {
        return None;
    }
    if is_safe(method) {
        return Some(Scope::Read);
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let runs = match segments.as_slice() {
        ["", "api", "runs" | "sweeps"] => *method == Method::POST,
        ["", "api", "runs" | "sweeps", _, "cancel" | "rerun"] => true,
        ["", "api", "sweeps", _, "variants", _, "run"] => true,
        _ => false,
    };
    Some(if runs { Scope::Run } else { Scope::Write })
}

/// The host part of a `Host` header (without the port; an IPv6 literal
/// without its brackets).
fn host_part(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':')
        .map_or(host, |(name, port)| if port.chars().all(|c| c.is_ascii_digit()) { name } else { host })
}

/// Whether a request's `Host` may be served: an IP address or `localhost`
/// (which a foreign page cannot make its own), or one of the names the
/// server was told it is reached by. Anything else is a page that got its
/// name pointed at this server (DNS rebinding).
pub fn host_allowed(host: &str, names: &[String]) -> bool {
    let name = host_part(host).to_ascii_lowercase();
    if name.is_empty() {
        return false;
    }
    name == "localhost"
        || name.parse::<std::net::IpAddr>().is_ok()
        || names.iter().any(|allowed| allowed.eq_ignore_ascii_case(&name))
}

/// Whether a browser request from `origin` may change something: the
/// service's own page (same scheme-less host and port as `host`), or an
/// origin named with `--cors-origin`.
pub fn origin_allowed(origin: &str, host: &str, cors_origins: &[String]) -> bool {
    let own = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    own.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
        || cors_origins.iter().any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_of_the_routes() {
        let post = Method::POST;
        let cases = [
            (Method::GET, "/api/runs/3/trades", Some(Scope::Read)),
            (post.clone(), "/api/runs", Some(Scope::Run)),
            (post.clone(), "/api/runs/3/cancel", Some(Scope::Run)),
            (post.clone(), "/api/runs/3/rerun", Some(Scope::Run)),
            (post.clone(), "/api/sweeps", Some(Scope::Run)),
            (post.clone(), "/api/sweeps/2/cancel", Some(Scope::Run)),
            (post.clone(), "/api/sweeps/2/variants/7/run", Some(Scope::Run)),
            (post.clone(), "/api/strategies", Some(Scope::Write)),
            (post.clone(), "/api/strategies/1/versions", Some(Scope::Write)),
            (post.clone(), "/api/datasets", Some(Scope::Write)),
            (Method::DELETE, "/api/runs/3", Some(Scope::Write)),
            (Method::DELETE, "/api/strategies/1", Some(Scope::Write)),
            (post.clone(), "/api/session", None),
            (Method::DELETE, "/api/session", None),
        ];
        for (method, path, scope) in cases {
            assert_eq!(required_scope(&method, path), scope, "{method} {path}");
        }
        assert!(is_public("/") && is_public("/assets/app.js") && is_public("/health"));
        assert!(is_public("/api/openapi.json") && is_public("/api/docs") && is_public("/api/docs/index.css"));
        assert!(is_public("/api/session"));
        assert!(!is_public("/api/runs") && !is_public("/api/documents") && !is_public("/api/sessions"));
    }

    #[test]
    fn hosts_must_be_addresses_localhost_or_named() {
        let names = vec!["bt.example.com".to_string()];
        for ok in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:80", "10.0.0.5", "BT.example.com:443"] {
            assert!(host_allowed(ok, &names), "{ok}");
        }
        for bad in ["evil.example:8080", "127.0.0.1.evil.example", "", ":80", "localhost.evil.example:8080"] {
            assert!(!host_allowed(bad, &names), "{bad}");
        }
    }

    #[test]
    fn origins_must_be_the_page_itself_or_named() {
        let cors = vec!["https://app.example.com".to_string()];
        assert!(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", &cors));
        assert!(origin_allowed("https://app.example.com", "127.0.0.1:8080", &cors));
        assert!(!origin_allowed("http://evil.example", "127.0.0.1:8080", &cors));
        assert!(!origin_allowed("null", "127.0.0.1:8080", &cors));
        assert!(!origin_allowed("http://127.0.0.1:9999", "127.0.0.1:8080", &cors));
    }
}
