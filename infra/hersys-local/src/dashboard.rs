//! The public dashboard on `hersys serve`: the page at `/` (its files embedded in the binary) and the graph export
//! `DATA_DIR/export/` at `/export/`, read-only, without authentication (it is public data).
//!
//! `/export/` serves regular files only: no directory listing, and a path whose segments are not plain names (`..`,
//! `.`, hidden names, backslashes, anything outside `[A-Za-z0-9._-]`) is refused before the file system is asked.
//! A resolved path that leaves the export directory (a symbolic link) is refused as well.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The dashboard's routes, to be merged beside the API's (outside its authentication layer). The page's files are
/// the `dashboard` crate's ([`::dashboard::PAGE`], one copy for the export and here).
pub fn router(data_dir: &Path) -> Router {
    let mut router = Router::new();
    for file in ::dashboard::PAGE {
        let route = |path: String| (path, file.content_type, file.text);
        let mut paths = vec![route(format!("/{}", file.name))];
        if file.name == "index.html" {
            paths.push(route("/".to_owned()));
        }
        for (path, content_type, body) in paths {
            router = router.route(&path, get(move || async move { page_file(content_type, body) }));
        }
    }
    router.route("/export/{*path}", get(export_file)).with_state(ExportRoot(data_dir.join("export")))
}

#[derive(Clone)]
struct ExportRoot(PathBuf);

fn page_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response()
}

/// True for a relative path made only of plain names: no empty, `.`-leading (so no `.` or `..`) or odd segment.
fn is_plain_relative_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

fn content_type_of(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        // The page the export writes beside the data (`/export/index.html` works as well as `/`).
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn export_file(State(ExportRoot(root)): State<ExportRoot>, UrlPath(path): UrlPath<String>) -> Response {
    if !is_plain_relative_path(&path) {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let Ok((resolved, body)) = read_inside(&root, &path).await else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let content_type = content_type_of(&resolved);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The export is rewritten in place every hour: revalidate rather than cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Reads `root/path` if it is a regular file whose real location is inside the real `root`.
async fn read_inside(root: &Path, path: &str) -> std::io::Result<(PathBuf, Vec<u8>)> {
    let real_root = tokio::fs::canonicalize(root).await?;
    let resolved = tokio::fs::canonicalize(root.join(path)).await?;
    if !resolved.starts_with(&real_root) || !tokio::fs::metadata(&resolved).await?.is_file() {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    let body = tokio::fs::read(&resolved).await?;
    Ok((resolved, body))
}

#[cfg(test)]
mod tests {
    use super::is_plain_relative_path;

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        for ok in ["manifest.json", "json/newly_confirmed_cases_daily.json", "csv/a-b_c.csv"] {
            assert!(is_plain_relative_path(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            "../hmac.key",
            "json/../../hmac.key",
            "./manifest.json",
            "json//x.json",
            "json/",
            "/etc/passwd",
            ".hidden",
            "json\\..\\x",
            "a b.json",
            "%2e%2e/x",
            "json/.. /x",
        ] {
            assert!(!is_plain_relative_path(bad), "{bad}");
        }
    }
}
