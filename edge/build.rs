//! Puts Chart.js (the dashboard's chart library, from the npm package pinned in package-lock;
//! not committed) where `src/assets.rs` embeds it. Only the wasm32 worker embeds it; native
//! builds of this crate compile to nothing and need no node_modules.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let from = PathBuf::from(manifest).join("../node_modules/chart.js/dist/chart.umd.min.js");
    println!("cargo::rerun-if-changed={}", from.display());
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("wasm32") {
        return ExitCode::SUCCESS;
    }
    let to = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("chart.umd.min.js");
    match std::fs::copy(&from, &to) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "cannot read {} ({e}): run scripts/setup.sh (npm ci) first",
                from.display()
            );
            ExitCode::FAILURE
        }
    }
}
