//! Writes a run's files into `--out` so that a reader never sees a mix,
//! and a run killed at any instant leaves the previous outputs intact.
//!
//! Every file is streamed (hashed as it is written) into a staging
//! directory beside `--out` (`.NAME.recon-new-PID`), around the page cache
//! where the file system allows (`direct`), then synced.
//! Only when every file is complete does one atomic step put them in place:
//! - `--out` absent: the staging directory is renamed to it;
//! - `--out` present: the two directories are exchanged in one
//!   `renameat2(RENAME_EXCHANGE)` (Linux), then the old one is removed.
//!   Files in `--out` that recon does not write are hard-linked into the
//!   staging directory first, so they stay; a subdirectory of `--out` is
//!   refused before the run starts (`check_out_dir`), as it cannot be
//!   carried over atomically.
//!
//! Where the exchange is not available (another OS, a file system without
//! it) the old directory is renamed aside (`.NAME.recon-old-PID`) and the
//! new one renamed in: a kill between the two renames leaves `--out`
//! absent and the previous outputs aside, and the next run puts them back
//! before anything else. A run that fails before `commit` removes its
//! staging directory and leaves `--out` as it was; a staging directory left
//! by a killed run is removed by the next run into the same `--out`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::direct::DirectFile;

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

/// The directory's file name, for the staging and aside names beside it.
fn dir_name(out: &Path) -> io::Result<String> {
    out.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a directory", out.display()),
            )
        })
}

/// `out` made absolute (without resolving symlinks), so that its parent is
/// known even for `--out results`.
/// A symlink is followed (the directory it names is replaced, not the
/// link).
fn absolute(out: &Path) -> io::Result<PathBuf> {
    if fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        return fs::canonicalize(out);
    }
    std::path::absolute(out)
}

/// Called before anything is read: finishes what a killed run left (see
/// `recover`), then refuses an `--out` that cannot be replaced as a whole:
/// an existing path that is not a directory, or a directory holding a
/// subdirectory (recon writes only files; a subdirectory would have to be
/// moved out of the way, not atomically).
pub fn prepare_out_dir(out: &Path) -> Result<(), String> {
    let out = absolute(out).map_err(|e| format!("unusable output directory: {e}"))?;
    let name = dir_name(&out).map_err(|e| e.to_string())?;
    if let Some(parent) = out.parent() {
        recover(parent, &name, &out)
            .map_err(|e| format!("cannot restore the outputs a killed run left aside: {e}"))?;
    }
    let entries = match fs::read_dir(&out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) if out.exists() && !out.is_dir() => {
            return Err(format!("--out names a file, not a directory ({e})"));
        }
        Err(e) => return Err(format!("cannot read the output directory: {e}")),
    };
    // Replaced as a whole, so it must be an entry of its parent on the
    // same file system: not the working directory, not a mount point.
    let here = std::env::current_dir().and_then(fs::canonicalize).ok();
    if fs::canonicalize(&out).ok() == here {
        return Err(
            "--out is the working directory, which recon would replace as a whole: give a directory of its own, such as --out run"
                .into(),
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let device = |p: &Path| fs::metadata(p).map(|m| m.dev()).ok();
        if let Some(parent) = out.parent()
            && device(&out) != device(parent)
        {
            return Err(
                "--out is a mount point, which recon cannot replace as a whole: give a directory inside it, such as --out /mnt/out/run"
                    .into(),
            );
        }
    }
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            return Err(format!(
                "the output directory holds a subdirectory ({}), which recon did not write: recon replaces its output directory as a whole so that no reader ever sees a mix of two runs; give --out a directory of its own",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    Ok(())
}

/// Linux's atomic exchange of two paths; `Unsupported` elsewhere or where
/// the file system lacks it.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths, relative to the working
    // directory; the syscall reads them and returns a status.
    let status = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {
            Err(io::Error::new(io::ErrorKind::Unsupported, error))
        }
        _ => Err(error),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange on this system",
    ))
}

fn sync_dir(dir: &Path, durable: bool) {
    if !durable {
        return;
    }
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Whether process `pid` may still be running (Linux: `/proc`; elsewhere
/// assumed so, and its leftovers kept).
fn alive(pid: u32) -> bool {
    !cfg!(target_os = "linux") || Path::new(&format!("/proc/{pid}")).exists()
}

/// Cleans up after a run killed while replacing `out`: previous outputs
/// left aside come back if `out` is missing, and staging directories of
/// dead runs are removed.
fn recover(parent: &Path, name: &str, out: &Path) -> io::Result<()> {
    let new_prefix = format!(".{name}.recon-new-");
    let old_prefix = format!(".{name}.recon-old-");
    let Ok(entries) = fs::read_dir(parent) else {
        return Ok(());
    };
    let mut aside = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let pid = |prefix: &str| {
            file_name
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
        };
        if let Some(pid) = pid(&new_prefix) {
            if pid != std::process::id() && !alive(pid) {
                let _ = fs::remove_dir_all(entry.path());
            }
        } else if let Some(pid) = pid(&old_prefix)
            && !alive(pid)
        {
            aside.push(entry.path());
        }
    }
    // The newest aside copy comes back when `--out` is missing. With
    // `--out` present, an aside copy is removed only when it holds nothing
    // but recon's outputs and files `--out` also holds (the same file,
    // linked across): else it may hold the only copy of a file of the
    // user's (a run killed, then `--out` made again by hand), and stays.
    aside.sort();
    if let Some(previous) = aside.last()
        && !out.exists()
    {
        fs::rename(previous, out)?;
        aside.pop();
    }
    for stale in aside {
        if only_copies(&stale, out) {
            let _ = fs::remove_dir_all(stale);
        }
    }
    Ok(())
}

/// Whether every entry of `aside` is an output of recon's or the very
/// file `out` holds under the same name.
fn only_copies(aside: &Path, out: &Path) -> bool {
    let Ok(entries) = fs::read_dir(aside) else {
        return false;
    };
    entries.flatten().all(|entry| {
        let name = entry.file_name();
        let ours = name
            .to_str()
            .is_some_and(|n| n == "manifest.json" || crate::output::run_files::FILES.contains(&n));
        ours || same_file(&entry.path(), &out.join(&name))
    })
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

/// Files written into a staging directory, put in place together by
/// `commit`.
pub struct Staging {
    /// `None`: hash only, nothing written (`hash_only`).
    target: Option<Target>,
    /// (name, SHA-256) of every file staged, in order.
    pub hashes: Vec<(String, String)>,
}

struct Target {
    out: PathBuf,
    staging: PathBuf,
    /// Files and directories synced to disk before they are put in place.
    durable: bool,
}

impl Staging {
    /// `durable`: sync every file and directory to disk before it is put
    /// in place (a run's outputs); not for a scratch directory.
    pub fn new(out: &Path, durable: bool) -> io::Result<Staging> {
        let out = absolute(out)?;
        let name = dir_name(&out)?;
        let parent = out
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        fs::create_dir_all(&parent)?;
        recover(&parent, &name, &out)?;
        // Unique per run within the process too (tests run several).
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let staging = parent.join(format!(".{name}.recon-new-{}-{run}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir(&staging)?;
        Ok(Staging {
            target: Some(Target {
                out,
                staging,
                durable,
            }),
            hashes: Vec::new(),
        })
    }

    /// Files rendered and hashed, never written: what a replay compares.
    pub fn hash_only() -> Staging {
        Staging {
            target: None,
            hashes: Vec::new(),
        }
    }

    /// Streams one file through `write` into the staging directory.
    pub fn file(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
    ) -> io::Result<()> {
        let digest = self.stage(name, write)?;
        self.hashes.push((name.to_string(), digest));
        Ok(())
    }

    /// Streams several files at once, each through `write(name, out)` on a
    /// thread of its own, so that one file's writing and hashing (serial
    /// per file) overlaps another's; hashes recorded in the order given.
    /// Files start in the order of `start_first` (the longest first, so
    /// that the last one to end is not a long one started late), then the
    /// rest in order: each thread takes the next file when it is done.
    pub fn files<F>(&mut self, names: &[&str], start_first: &[&str], write: F) -> io::Result<()>
    where
        F: Fn(&str, &mut (dyn Write + Send)) -> io::Result<()> + Sync,
    {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Each file once, however the lists repeat a name.
        let mut queue: Vec<usize> = Vec::with_capacity(names.len());
        let first = start_first
            .iter()
            .filter_map(|first| names.iter().position(|name| name == first));
        for at in first.chain(0..names.len()) {
            if !queue.contains(&at) && !names[..at].contains(&names[at]) {
                queue.push(at);
            }
        }
        let next = AtomicUsize::new(0);
        let staged: Vec<Mutex<Option<io::Result<String>>>> =
            names.iter().map(|_| Mutex::new(None)).collect();
        let this = &*self;
        let take = || {
            while let Some(&at) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
                let digest = this.stage(names[at], |out| write(names[at], out));
                *staged[at].lock().unwrap_or_else(|e| e.into_inner()) = Some(digest);
            }
        };
        rayon::scope(|scope| {
            for _ in 1..rayon::current_num_threads().min(names.len()) {
                scope.spawn(|_| take());
            }
            take();
        });
        for (name, digest) in names.iter().zip(staged) {
            let digest = digest
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err(io::Error::other(format!("{name} was not written"))));
            self.hashes.push((name.to_string(), digest?));
        }
        Ok(())
    }

    /// Writes (or only hashes) one file; returns its SHA-256.
    fn stage(
        &self,
        name: &str,
        write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
    ) -> io::Result<String> {
        let Some(target) = &self.target else {
            let mut out = Hashing {
                inner: io::sink(),
                hasher: Sha256::new(),
            };
            write(&mut out)?;
            return Ok(hex(&out.hasher.finalize()));
        };
        let path = target.staging.join(name);
        // Around the page cache where the file system allows (`direct`).
        let mut out = Hashing {
            inner: DirectFile::create(&path)?,
            hasher: Sha256::new(),
        };
        write(&mut out)?;
        let digest = out.hasher.finalize();
        let file = out.inner.finish()?;
        if target.durable {
            file.sync_all()?;
        }
        Ok(hex(&digest))
    }

    /// Puts every staged file in place in one atomic step (see the module
    /// comment). On error `--out` is as it was and the staging directory
    /// is removed.
    pub fn commit(self) -> io::Result<()> {
        let Some(target) = self.target else {
            return Ok(());
        };
        let result = target.replace();
        let _ = fs::remove_dir_all(&target.staging);
        result
    }

    /// Removes the staging directory; `--out` is as it was.
    pub fn abort(self) {
        if let Some(target) = self.target {
            let _ = fs::remove_dir_all(&target.staging);
        }
    }
}

impl Target {
    fn replace(&self) -> io::Result<()> {
        let parent = self.staging.parent().unwrap_or(Path::new("/"));
        if !self.out.exists() {
            sync_dir(&self.staging, self.durable);
            fs::rename(&self.staging, &self.out)?;
            sync_dir(parent, self.durable);
            return Ok(());
        }
        // Files recon does not write stay in `--out`: linked (copied where
        // links are refused) into the new directory before the exchange.
        for entry in fs::read_dir(&self.out)? {
            let entry = entry?;
            let name = entry.file_name();
            let target = self.staging.join(&name);
            // A name recon writes is replaced, not carried over.
            if target.exists() {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                return Err(io::Error::other(format!(
                    "{} appeared in the output directory during the run",
                    entry.path().display()
                )));
            }
            if kind.is_symlink() {
                #[cfg(unix)]
                std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
            } else if fs::hard_link(entry.path(), &target).is_err() {
                fs::copy(entry.path(), &target)?;
            }
        }
        // The directory keeps its permissions (mode, and so setgid).
        if let Ok(metadata) = fs::metadata(&self.out) {
            let _ = fs::set_permissions(&self.staging, metadata.permissions());
        }
        sync_dir(&self.staging, self.durable);
        // Test switch: the fallback path, on a system that has the exchange.
        let exchanged = if std::env::var_os("RECON_WRITE_NO_EXCHANGE").is_some() {
            Err(io::Error::new(io::ErrorKind::Unsupported, "disabled"))
        } else {
            exchange(&self.staging, &self.out)
        };
        match exchanged {
            // The staging path now holds the previous outputs.
            Ok(()) => {
                sync_dir(parent, self.durable);
                Ok(())
            }
            Err(error) if error.kind() == io::ErrorKind::Unsupported => {
                let name = dir_name(&self.out)?;
                let aside = parent.join(format!(".{name}.recon-old-{}", std::process::id()));
                fs::rename(&self.out, &aside)?;
                if let Err(error) = fs::rename(&self.staging, &self.out) {
                    fs::rename(&aside, &self.out)?;
                    return Err(error);
                }
                sync_dir(parent, self.durable);
                let _ = fs::remove_dir_all(&aside);
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files started (in the order they started) and hashes recorded, on a
    /// pool of `threads`.
    fn staged(threads: usize) -> (Vec<String>, Vec<(String, String)>) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let started = std::sync::Mutex::new(Vec::new());
        let mut staging = Staging::hash_only();
        pool.install(|| {
            staging.files(
                &["a.csv", "b.csv", "c.csv", "d.csv"],
                &["c.csv", "none.csv", "a.csv"],
                |name, out| {
                    started.lock().unwrap().push(name.to_string());
                    out.write_all(name.as_bytes())
                },
            )
        })
        .expect("hashed");
        (started.into_inner().unwrap(), staging.hashes)
    }

    #[test]
    fn files_start_longest_first_and_record_in_the_order_given() {
        let recorded: Vec<(String, String)> = ["a.csv", "b.csv", "c.csv", "d.csv"]
            .iter()
            .map(|n| (n.to_string(), sha256_hex(n.as_bytes())))
            .collect();
        let (started, hashes) = staged(1);
        assert_eq!(started, ["c.csv", "a.csv", "b.csv", "d.csv"]);
        assert_eq!(hashes, recorded);
        // On two threads the start order is a race; the record is not.
        let (mut started, hashes) = staged(2);
        assert_eq!(hashes, recorded);
        started.sort();
        assert_eq!(started, ["a.csv", "b.csv", "c.csv", "d.csv"]);
    }

    /// Files larger than the direct writer's buffer, staged for real: each
    /// hash recorded is the hash of the file's bytes on disk.
    #[test]
    fn staged_files_hold_what_their_hashes_say() {
        let dir = std::env::temp_dir().join(format!("recon-staging-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let mut staging = Staging::new(&out, true).unwrap();
        let body = |name: &str| -> Vec<u8> {
            let size = if name == "big.csv" {
                (9 << 20) + 123
            } else {
                5
            };
            (0..size).map(|i| b"abcdefghij\n"[i % 11]).collect()
        };
        staging
            .files(&["small.csv", "big.csv"], &["big.csv"], |name, out| {
                body(name)
                    .chunks(70_001)
                    .try_for_each(|piece| out.write_all(piece))
            })
            .unwrap();
        let hashes = staging.hashes.clone();
        staging.commit().unwrap();
        for (name, hash) in &hashes {
            let bytes = fs::read(out.join(name)).unwrap();
            assert!(bytes == body(name), "{name}");
            assert_eq!(*hash, sha256_hex(&bytes), "{name}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failing_file_fails_the_files() {
        let mut staging = Staging::hash_only();
        let result = staging.files(&["a", "b"], &[], |name, out| {
            if name == "b" {
                return Err(io::Error::other("disk full"));
            }
            out.write_all(b"x")
        });
        assert_eq!(result.unwrap_err().to_string(), "disk full");
    }
}
