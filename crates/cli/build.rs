//! Embeds the viewer that `storesnap view` serves: the files Trunk built into `dist/` at the top
//! of the repo (or `$STORESNAP_VIEWER_DIST`). `scripts/build` builds it first; without it, the
//! binary still builds and `view` says how to get the viewer in.

#![allow(clippy::print_stdout)] // Cargo reads a build script's instructions from its stdout.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=STORESNAP_VIEWER_DIST");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dist = std::env::var_os("STORESNAP_VIEWER_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../dist"));
    // Cargo rescans a directory given here, so a new Trunk build re-runs this script.
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if dist.join("index.html").is_file() {
        for entry in std::fs::read_dir(&dist).expect("reading the viewer's dist") {
            let entry = entry.expect("reading the viewer's dist");
            if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                let name = entry.file_name().to_string_lossy().into_owned();
                files.push((name, entry.path().canonicalize().expect("a dist file")));
            }
        }
    }
    files.sort();
    let mut code = String::from(
        "/// The viewer's files, by name (empty when built without one).\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in &files {
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("viewer.rs");
    std::fs::write(out, code).expect("writing viewer.rs");
}
