//! Writes a run's files into `--out` so that a reader never sees a mix:
//! every file is written under a temporary name in the same directory and
//! flushed, then all are renamed into place, `manifest.json` last (the
//! manifest names every output's SHA-256, so a torn set is detectable).
//! Nothing is renamed unless every file was written: a run that fails
//! leaves `--out` as it was.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Writes `files` (name, bytes) into `dir`, atomically per file and with
/// the renames only after every write succeeded.
pub fn write_all(dir: &Path, files: &[(&str, Vec<u8>)]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut written = Vec::with_capacity(files.len());
    let result = (|| {
        for (name, bytes) in files {
            let temporary = dir.join(format!(".{name}.recon-tmp"));
            let mut file = fs::File::create(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            written.push((temporary, dir.join(name)));
        }
        Ok(())
    })();
    if let Err(error) = result {
        for (temporary, _) in &written {
            let _ = fs::remove_file(temporary);
        }
        return Err(error);
    }
    for (temporary, target) in &written {
        fs::rename(temporary, target)?;
    }
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}
