//! Writes a run's files into `--out` so that a reader never sees a mix:
//! every file is streamed under a temporary name in the same directory
//! (hashed as it is written) and flushed; only when every file is complete
//! are they renamed into place, `manifest.json` last (it names every
//! output's SHA-256, so a torn set is detectable). A run that fails before
//! `commit` leaves `--out` as it was.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    let mut text = String::with_capacity(64);
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Files written under temporary names, renamed together by `commit`.
pub struct Staging {
    dir: PathBuf,
    files: Vec<(PathBuf, PathBuf)>,
    /// (name, SHA-256) of every file staged, in order.
    pub hashes: Vec<(String, String)>,
}

impl Staging {
    pub fn new(dir: &Path) -> io::Result<Staging> {
        fs::create_dir_all(dir)?;
        Ok(Staging {
            dir: dir.to_path_buf(),
            files: Vec::new(),
            hashes: Vec::new(),
        })
    }

    /// Streams one file through `write` into its temporary name.
    pub fn file(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
    ) -> io::Result<()> {
        let temporary = self.dir.join(format!(".{name}.recon-tmp"));
        // Recorded before writing so `abort` removes a half-written file.
        self.files.push((temporary.clone(), self.dir.join(name)));
        let file = fs::File::create(&temporary)?;
        let mut out = Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
        };
        write(&mut out)?;
        out.flush()?;
        let digest = out.hasher.finalize();
        let file = out.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        self.hashes.push((name.to_string(), hex(&digest)));
        Ok(())
    }

    /// Renames every staged file into place, in the order staged.
    /// A rename that fails part-way leaves the files renamed so far (the
    /// manifest, renamed last, is then the previous run's, and `replay`
    /// finds the mismatch); the temporary files left are removed.
    pub fn commit(self) -> io::Result<()> {
        for (done, (temporary, target)) in self.files.iter().enumerate() {
            if let Err(error) = fs::rename(temporary, target) {
                for (rest, _) in &self.files[done..] {
                    let _ = fs::remove_file(rest);
                }
                return Err(error);
            }
        }
        if let Ok(handle) = fs::File::open(&self.dir) {
            let _ = handle.sync_all();
        }
        Ok(())
    }

    /// Removes every temporary file; `--out` is as it was.
    pub fn abort(self) {
        for (temporary, _) in &self.files {
            let _ = fs::remove_file(temporary);
        }
    }
}
