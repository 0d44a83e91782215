//! Builds the Tauri context. The window embeds `ui/dist`, built by `cd ui && npx vite build`;
//! when it is missing (a fresh clone) a placeholder page saying so is written, so that a plain
//! `cargo build --workspace` works, with a warning.

use std::path::Path;

const PLACEHOLDER: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"UTF-8\"><title>Madadkar: user interface not built</title></head>
<body><h1>The user interface is not built</h1>
<p>This app was compiled before its web front end. Run <code>cd ui &amp;&amp; npm ci &amp;&amp; npx vite build</code>,
then build the app again (<code>cargo build -p madadkar-desktop</code>).</p></body></html>
";

fn main() {
    let dist = Path::new("../ui/dist");
    println!("cargo::rerun-if-changed=../ui/dist");
    if !dist.join("index.html").exists() {
        if let Err(e) = std::fs::create_dir_all(dist)
            .and_then(|()| std::fs::write(dist.join("index.html"), PLACEHOLDER))
        {
            println!("cargo::warning=cannot write a placeholder ui/dist: {e}");
        } else {
            println!(
                "cargo::warning=ui/dist was missing: the app shows a placeholder page; run `cd ui && npx vite build` and build again"
            );
        }
    }
    tauri_build::build()
}
