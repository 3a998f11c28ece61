//! Records the commit the binary is built from, for `manifest.json`:
//! `RECON_COMMIT` is the full hash of `HEAD`, with `-dirty` when tracked
//! files differ from it, or `unknown` outside a git work tree (a crates.io
//! build, a tarball). An explicit `RECON_COMMIT` in the environment wins, so
//! a packager can stamp a build made without `.git`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=RECON_COMMIT");
    // HEAD moves on commit and checkout; the index on commit and add; the
    // sources when the tree becomes dirty or clean again.
    for path in [".git/HEAD", ".git/index", "src", "Cargo.toml", "build.rs"] {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed=.git/{reference}");
    }
    let commit = std::env::var("RECON_COMMIT").ok().or_else(|| {
        let head = git(&["rev-parse", "HEAD"])?;
        let clean = Command::new("git")
            .args([
                "diff",
                "--quiet",
                "HEAD",
                "--",
                "src",
                "Cargo.toml",
                "Cargo.lock",
                "build.rs",
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        Some(if clean { head } else { format!("{head}-dirty") })
    });
    println!(
        "cargo:rustc-env=RECON_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}
