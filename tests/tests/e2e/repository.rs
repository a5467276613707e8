//! The repository stands alone and runs on any machine: a clone with `CARGO_HOME` somewhere
//! other than `~/.cargo` and no `../shared` beside it passes (regression: `.ci/run` failed in
//! `scripts/build-edge.sh` looking for `$HOME/.cargo/bin/wasm-bindgen`, and the tests read
//! `../shared/data/rees46-sample.csv`).

use std::path::{Path, PathBuf};

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if p.is_dir() {
            if !matches!(name, "target" | "node_modules" | "build" | ".venv" | "out") {
                files(&p, exts, out);
            }
        } else if exts.iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
}

#[test]
fn regression_scripts_find_tools_through_cargo_home_not_a_fixed_home() {
    let root = tests::root();
    let mut scripts = Vec::new();
    for dir in ["scripts", "bench", ".ci"] {
        files(&root.join(dir), &[".sh", "run", ".mjs"], &mut scripts);
    }
    assert!(scripts.len() >= 5, "{scripts:?}");
    for f in &scripts {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let fixed = line.replace("${CARGO_HOME:-$HOME/.cargo}", "");
            assert!(
                !fixed.contains("$HOME/.cargo")
                    && !fixed.contains("~/.cargo")
                    && !fixed.contains("/root/"),
                "{}:{}: a fixed tool path; use ${{CARGO_HOME:-$HOME/.cargo}} or command -v: {line}",
                f.display(),
                n + 1
            );
        }
    }
}

#[test]
fn regression_tests_read_nothing_outside_the_repository() {
    let root = tests::root();
    let mut sources = Vec::new();
    for dir in ["tests", "trainer", "shared", "edge", "scripts", ".ci"] {
        files(
            &root.join(dir),
            &[".rs", ".sh", ".mjs", ".py", "run"],
            &mut sources,
        );
    }
    let this = file!().rsplit('/').next().unwrap_or_default().to_owned();
    for f in &sources {
        if f.ends_with(&this) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            assert!(
                !line.contains("../shared/data") && !line.contains("../../shared/data"),
                "{}:{}: tests and scripts must not read ../shared (fixtures live in tests/fixtures, \
                 benchmarks read VITRINE_DATA): {line}",
                f.display(),
                n + 1
            );
        }
    }
    assert!(tests::fixture("rees46-sample.csv").exists());
}
