//! A file written around the page cache (Linux `O_DIRECT`), for the run's
//! outputs: a million-line run writes 1.4 GB that nothing reads back soon,
//! and copying it into the page cache (fresh memory, faulted in and
//! zeroed by the kernel, then written back and synced anyway) cost more CPU
//! than rendering it on a virtual machine.
//!
//! The bytes gather in an aligned buffer and go to the disk straight from
//! it, in whole blocks, written by a thread of the file's own while the
//! caller fills a second buffer (a direct write returns only once the
//! device has the bytes: a rendering thread would otherwise wait for it);
//! the last partial block is written after `O_DIRECT` is turned off. Where the file system refuses direct I/O (tmpfs, some
//! network and FUSE file systems: at open or at the first write) the file
//! is written through the page cache as any other, with the same bytes.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes gathered before each write: a multiple of `ALIGN`.
const BUFFER: usize = 4 << 20;

/// Alignment of the buffer, of each write's length and of its offset: the
/// largest logical block size of common disks.
const ALIGN: usize = 4096;

/// One buffer of `BUFFER` bytes aligned to `ALIGN`.
struct Block {
    /// `BUFFER + ALIGN` bytes, used from `start` (aligned).
    memory: Vec<u8>,
    start: usize,
    len: usize,
}

impl Block {
    fn new() -> Block {
        let memory = vec![0u8; BUFFER + ALIGN];
        let start = memory.as_ptr().align_offset(ALIGN);
        Block {
            memory,
            start,
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.memory[self.start..self.start + self.len]
    }

    /// The block, leaving an empty one (no memory) in its place.
    fn take(&mut self) -> Block {
        std::mem::replace(
            self,
            Block {
                memory: Vec::new(),
                start: 0,
                len: 0,
            },
        )
    }
}

/// What the writer thread is sent.
enum Job {
    /// A full buffer, and (tests) whether its first direct write is to be
    /// refused as a file system would.
    Write(Block, bool),
    /// The last bytes: written, and the file given back.
    Finish(Block, bool),
}

/// A file written by a thread of its own, from two buffers in turn: the
/// caller fills one while the other goes to the disk, so that a rendering
/// thread never waits for the disk (a direct write returns only once the
/// device has the bytes).
pub struct DirectFile {
    /// The buffer being filled.
    current: Block,
    jobs: Option<SyncSender<Job>>,
    /// Buffers back from the writer, written.
    free: Receiver<Block>,
    writer: Option<JoinHandle<io::Result<fs::File>>>,
    /// The writer's error, once it stopped on one.
    failed: Option<(io::ErrorKind, String)>,
    /// Tests: the next direct write is refused as a file system would.
    #[cfg(test)]
    refuse: bool,
    /// Tests: set when direct I/O is turned off before the last buffer.
    #[cfg(test)]
    fell_back: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl DirectFile {
    /// Creates (or truncates) `path`, for direct I/O where the file system
    /// takes it.
    pub fn create(path: &Path) -> io::Result<DirectFile> {
        let (file, direct) = match open(path, true) {
            Ok(file) => (file, true),
            Err(_) => (open(path, false)?, false),
        };
        let (jobs, to_write) = sync_channel(1);
        let (written, free) = sync_channel(2);
        // The second buffer, ready for when the first goes out.
        let _ = written.send(Block::new());
        #[cfg(test)]
        let fell_back = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let disk = Disk {
            file,
            direct,
            #[cfg(test)]
            fell_back: fell_back.clone(),
        };
        let writer = std::thread::Builder::new()
            .name("recon-writer".into())
            .spawn(move || write_blocks(disk, to_write, written))?;
        Ok(DirectFile {
            current: Block::new(),
            jobs: Some(jobs),
            free,
            writer: Some(writer),
            failed: None,
            #[cfg(test)]
            refuse: false,
            #[cfg(test)]
            fell_back,
        })
    }

    fn refuse_next(&mut self) -> bool {
        #[cfg(test)]
        return std::mem::take(&mut self.refuse);
        #[cfg(not(test))]
        false
    }

    /// Sends the full buffer to the writer and takes the other one back.
    fn send(&mut self) -> io::Result<()> {
        let refuse = self.refuse_next();
        let sent = match &self.jobs {
            Some(jobs) => {
                let block = self.current.take();
                jobs.send(Job::Write(block, refuse)).is_ok()
            }
            None => false,
        };
        match self.free.recv() {
            Ok(block) if sent => {
                self.current = block;
                Ok(())
            }
            // The writer stopped: its error.
            _ => Err(self.stop()),
        }
    }

    /// The writer's error once it has stopped (kept: every later `write`
    /// or `finish` gives it again).
    fn stop(&mut self) -> io::Error {
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let error = match writer.join() {
                Ok(Err(error)) => error,
                Ok(Ok(_)) => io::Error::other("the output writer stopped"),
                Err(_) => io::Error::other("the output writer thread panicked"),
            };
            self.failed = Some((error.kind(), error.to_string()));
            return error;
        }
        match &self.failed {
            Some((kind, message)) => io::Error::new(*kind, message.clone()),
            None => io::Error::other("the output writer stopped"),
        }
    }

    /// Writes what is left and returns the file (not synced).
    pub fn finish(mut self) -> io::Result<fs::File> {
        if self.failed.is_some() {
            return Err(self.stop());
        }
        let refuse = self.refuse_next();
        let block = self.current.take();
        let sent = self
            .jobs
            .take()
            .is_some_and(|jobs| jobs.send(Job::Finish(block, refuse)).is_ok());
        if sent && let Some(writer) = self.writer.take() {
            return match writer.join() {
                Ok(result) => result,
                Err(_) => Err(io::Error::other("the output writer thread panicked")),
            };
        }
        Err(self.stop())
    }
}

impl Drop for DirectFile {
    /// Not finished (an aborted run): the writer stops after the buffer in
    /// hand, before the file is removed.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Write for DirectFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.failed.is_some() {
            return Err(self.stop());
        }
        if self.current.len == BUFFER {
            self.send()?;
        }
        let taken = bytes.len().min(BUFFER - self.current.len);
        let at = self.current.start + self.current.len;
        self.current.memory[at..at + taken].copy_from_slice(&bytes[..taken]);
        self.current.len += taken;
        Ok(taken)
    }

    /// Bytes stay gathered until a whole buffer or `finish`: a direct
    /// write cannot end inside a block.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The file, on the writer thread.
struct Disk {
    file: fs::File,
    direct: bool,
    #[cfg(test)]
    fell_back: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Disk {
    /// Writes `bytes` (a whole number of blocks while direct).
    fn write(&mut self, bytes: &[u8], mut refuse: bool) -> io::Result<()> {
        let mut done = 0;
        while done < bytes.len() {
            if std::mem::take(&mut refuse) && self.direct {
                self.buffered()?;
            }
            match self.file.write(&bytes[done..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => done += written,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Refused after all (alignment, file system, or a short
                // write left the offset inside a block): the rest of the
                // file goes through the page cache. A refused write writes
                // nothing.
                Err(e) if self.direct && refused(&e) => {
                    self.buffered()?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Turns direct I/O off for the rest of the file.
    fn buffered(&mut self) -> io::Result<()> {
        if self.direct {
            set_direct(&self.file, false)?;
            self.direct = false;
        }
        Ok(())
    }
}

/// The writer thread: buffers in order, each sent back once written; the
/// last one's whole blocks directly, its tail through the page cache.
fn write_blocks(
    mut disk: Disk,
    jobs: Receiver<Job>,
    written: SyncSender<Block>,
) -> io::Result<fs::File> {
    for job in jobs {
        match job {
            Job::Write(mut block, refuse) => {
                disk.write(block.bytes(), refuse)?;
                #[cfg(test)]
                if !disk.direct {
                    disk.fell_back
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
                block.len = 0;
                // The caller may have stopped waiting (an error of its
                // own): nothing to do then.
                let _ = written.send(block);
            }
            Job::Finish(block, refuse) => {
                let bytes = block.bytes();
                let whole = bytes.len() / ALIGN * ALIGN;
                disk.write(&bytes[..whole], refuse)?;
                disk.buffered()?;
                disk.write(&bytes[whole..], false)?;
                return Ok(disk.file);
            }
        }
    }
    Err(io::Error::other("the output was dropped before its end"))
}

/// A direct write the file system refuses (rather than fails).
fn refused(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP))
}

#[cfg(target_os = "linux")]
fn open(path: &Path, direct: bool) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(if direct { libc::O_DIRECT } else { 0 })
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open(path: &Path, direct: bool) -> io::Result<fs::File> {
    if direct {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "no O_DIRECT"));
    }
    fs::File::create(path)
}

#[cfg(target_os = "linux")]
fn set_direct(file: &fs::File, on: bool) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: reads and sets the status flags of a descriptor this
    // function's caller owns; no memory is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::O_DIRECT
    } else {
        flags & !libc::O_DIRECT
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_: &fs::File, _: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a descriptor has `O_DIRECT` (`None` off Linux).
    fn is_direct(file: &fs::File) -> Option<bool> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: reads the status flags of a descriptor we own.
            let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
            Some(flags & libc::O_DIRECT != 0)
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Sizes around the block and buffer boundaries, written in pieces of
    /// awkward sizes: the file holds exactly the bytes, direct or not.
    #[test]
    fn files_hold_exactly_the_bytes_written() {
        let dir = std::env::temp_dir().join(format!("recon-direct-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for size in [
            0,
            1,
            ALIGN - 1,
            ALIGN,
            ALIGN + 1,
            BUFFER,
            BUFFER + 3 * ALIGN + 17,
            2 * BUFFER + 5,
        ] {
            let bytes: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.join(format!("f{size}"));
            let mut out = DirectFile::create(&path).unwrap();
            for piece in bytes.chunks(1_000_003) {
                out.write_all(piece).unwrap();
            }
            out.finish().unwrap().sync_all().unwrap();
            assert!(fs::read(&path).unwrap() == bytes, "size {size}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A direct write refused (after a first buffer went out directly, where
    /// the file system takes it) sends the rest of the file through the
    /// page cache, nothing lost or doubled. tmpfs (direct I/O refused at open before Linux 6.6, taken
    /// since) holds the same bytes either way.
    #[test]
    fn refused_direct_writes_fall_back_to_the_page_cache() {
        let bytes: Vec<u8> = (0..BUFFER * 2 + 100).map(|i| (i % 253) as u8).collect();
        let dir = std::env::temp_dir().join(format!("recon-direct-refused-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let mut out = DirectFile::create(&path).unwrap();
        out.write_all(&bytes[..BUFFER + 10]).unwrap();
        out.refuse = true;
        out.write_all(&bytes[BUFFER + 10..]).unwrap();
        let fell_back = out.fell_back.clone();
        let file = out.finish().unwrap();
        // Direct I/O turned off in mid-file, and off at the end.
        assert!(fell_back.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(is_direct(&file), Some(false));
        assert!(fs::read(&path).unwrap() == bytes);
        fs::remove_dir_all(&dir).unwrap();
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            let path = shm.join(format!("recon-direct-{}", std::process::id()));
            let mut out = DirectFile::create(&path).unwrap();
            out.write_all(&bytes).unwrap();
            out.finish().unwrap();
            assert!(fs::read(&path).unwrap() == bytes);
            fs::remove_file(&path).unwrap();
        }
    }

    /// A write the device fails (`/dev/full`: no space left) comes back as
    /// the error of a later `write` or of `finish`, never a hang.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_failing_device_gives_its_error() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        for size in [10, BUFFER, 3 * BUFFER + 7] {
            let mut out = DirectFile::create(full).unwrap();
            let bytes = vec![7u8; size];
            match out.write_all(&bytes) {
                Err(error) => {
                    assert_eq!(error.raw_os_error(), Some(libc::ENOSPC), "{size}: {error}");
                    // Written again after the error: the same error, no panic.
                    let again = out.write_all(&bytes).expect_err("stopped");
                    assert_eq!(again.kind(), error.kind(), "{size}: {again}");
                    let last = out.finish().expect_err("stopped");
                    assert!(
                        last.to_string().contains(&error.to_string()),
                        "{size}: {last}"
                    );
                }
                Ok(()) => {
                    let error = out.finish().expect_err("no space left");
                    assert_eq!(error.raw_os_error(), Some(libc::ENOSPC), "{size}: {error}");
                }
            }
        }
    }
}
