//! The dashboard: a page at `/` (and `/emulator/`) showing the requests, each one's
//! timeline, jobs, deliveries, reports and files, with buttons for the dashboard's
//! actions. Three static files, no build step; the page talks to the inspection API
//! with a key the user gives it.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, header};

const INDEX: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/dashboard.js");
const STYLE: &str = include_str!("dashboard/dashboard.css");

/// Where the dashboard is served.
pub const DASHBOARD_PATH: &str = "/emulator/";

/// The file a GET of `path` asks for, with its content type.
fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/" | "/emulator" | "/emulator/" => Some((INDEX, "text/html; charset=utf-8")),
        "/emulator/dashboard.js" => Some((SCRIPT, "text/javascript; charset=utf-8")),
        "/emulator/dashboard.css" => Some((STYLE, "text/css; charset=utf-8")),
        _ => None,
    }
}

/// The dashboard's answer to a request, if the request is for one of its files.
pub(crate) fn serve(method: &Method, path: &str) -> Option<Response<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let (body, content_type) = asset(path)?;
    let mut response = Response::new(Bytes::from_static(body.as_bytes()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Scripts and styles from this origin only, nothing inline: a value a submission
    // smuggled into the page could not run.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_files_are_served_with_a_strict_policy() {
        for path in [
            "/",
            "/emulator/",
            "/emulator/dashboard.js",
            "/emulator/dashboard.css",
        ] {
            let response = serve(&Method::GET, path).unwrap();
            let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap();
            assert!(policy.contains("script-src 'self'"), "{path}");
        }
        assert!(serve(&Method::POST, "/").is_none());
        assert!(serve(&Method::GET, "/emulator/other.js").is_none());
        // The script never puts a value into the page as HTML.
        assert!(!SCRIPT.contains("innerHTML"));
    }
}
