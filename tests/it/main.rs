//! One integration-test binary; each module drives the public API or the
//! `recon` binary.

mod cli;
mod corpus;
mod corpus_mt;
mod golden;
mod kill;
mod limits;
mod matching;
mod matching_random;
mod mutation;
mod properties;
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

/// xorshift64*: the seeded generator of the mutation and random tests,
/// reproducible on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}
