//! The public dashboard's files. One copy, in `infra/hersys-local/dashboard/` (plain HTML, CSS and JS modules, no
//! build step), embedded here at build time: `hersys serve` serves them at `/`, and every export writes them into
//! the export root beside the data, so that the bucket holds the page and its data together (one origin for a CDN;
//! page and data always of the same release).

use publish::File;

/// A file of the page: its name (also its path under `/` and in the export root), content type and text.
#[derive(Debug, Clone, Copy)]
pub struct PageFile {
    pub name: &'static str,
    pub content_type: &'static str,
    pub text: &'static str,
}

pub const PAGE: [PageFile; 5] = [
    PageFile {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        text: include_str!("../../../infra/hersys-local/dashboard/index.html"),
    },
    PageFile {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        text: include_str!("../../../infra/hersys-local/dashboard/dashboard.css"),
    },
    PageFile {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        text: include_str!("../../../infra/hersys-local/dashboard/dashboard.js"),
    },
    PageFile {
        name: "charts.js",
        content_type: "text/javascript; charset=utf-8",
        text: include_str!("../../../infra/hersys-local/dashboard/charts.js"),
    },
    PageFile {
        name: "i18n.js",
        content_type: "text/javascript; charset=utf-8",
        text: include_str!("../../../infra/hersys-local/dashboard/i18n.js"),
    },
];

/// Where the page looks for the data when served by `hersys serve` (`/` with the data at `/export/`).
const SERVED_DATA_BASE: &str = r#"<meta name="hersys-data-base" content="export/">"#;
/// In the export root the data sits beside the page.
const BESIDE_DATA_BASE: &str = r#"<meta name="hersys-data-base" content="./">"#;

/// The page as the export writes it into its root: the same files, `index.html` reading the data beside it.
pub fn files_beside_the_data() -> Vec<File> {
    PAGE.iter()
        .map(|f| {
            let text = if f.name == "index.html" {
                f.text.replace(SERVED_DATA_BASE, BESIDE_DATA_BASE)
            } else {
                f.text.to_owned()
            };
            File { path: f.name.to_owned(), content_type: f.content_type, bytes: text.into_bytes() }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_page_beside_the_data_reads_its_own_directory() {
        assert!(PAGE[0].text.contains(SERVED_DATA_BASE), "index.html no longer has the data-base meta this rewrites");
        let files = files_beside_the_data();
        assert_eq!(
            files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["index.html", "dashboard.css", "dashboard.js", "charts.js", "i18n.js"]
        );
        let index = String::from_utf8(files[0].bytes.clone()).unwrap();
        assert!(index.contains(BESIDE_DATA_BASE) && !index.contains(SERVED_DATA_BASE));
        assert_eq!(files[2].bytes, PAGE[2].text.as_bytes());
    }
}
