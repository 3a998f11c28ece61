//! One integration-test binary; each module drives the public API or the
//! `recon` binary.

mod cli;
mod corpus;
mod corpus_mt;
mod golden;
mod limits;
mod matching;
mod matching_random;
mod mutation;
mod run_cli;

/// The shared corpus, when it sits beside the repository (CI has it).
pub fn corpus_dir() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.join("index.tsv").exists().then_some(dir)
}

/// The project's own fixtures.
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}
