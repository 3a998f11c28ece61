//! A file written around the page cache (Linux `O_DIRECT`), for the run's
//! outputs: a million-line run writes 1.4 GB that nothing reads back soon,
//! and copying it into the page cache (fresh memory, faulted in and
//! zeroed by the kernel, then written back and synced anyway) cost more CPU
//! than rendering it on a virtual machine.
//!
//! The bytes gather in an aligned buffer and go to the disk straight from
//! it, in whole blocks; the last partial block is written after `O_DIRECT`
//! is turned off. Where the file system refuses direct I/O (tmpfs, some
//! network and FUSE file systems: at open or at the first write) the file
//! is written through the page cache as any other, with the same bytes.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Bytes gathered before each write: a multiple of `ALIGN`.
const BUFFER: usize = 4 << 20;

/// Alignment of the buffer, of each write's length and of its offset: the
/// largest logical block size of common disks.
const ALIGN: usize = 4096;

pub struct DirectFile {
    file: fs::File,
    /// `BUFFER + ALIGN` bytes, used from `start` (aligned).
    memory: Vec<u8>,
    start: usize,
    len: usize,
    direct: bool,
    /// Tests: the next direct write is refused as a file system would.
    #[cfg(test)]
    refuse: bool,
}

impl DirectFile {
    /// Creates (or truncates) `path`, for direct I/O where the file system
    /// takes it.
    pub fn create(path: &Path) -> io::Result<DirectFile> {
        let (file, direct) = match open(path, true) {
            Ok(file) => (file, true),
            Err(_) => (open(path, false)?, false),
        };
        let memory = vec![0u8; BUFFER + ALIGN];
        let start = memory.as_ptr().align_offset(ALIGN);
        Ok(DirectFile {
            file,
            memory,
            start,
            len: 0,
            direct,
            #[cfg(test)]
            refuse: false,
        })
    }

    /// Writes the first `upto` gathered bytes (a whole number of blocks
    /// while direct) and keeps the rest.
    fn drain(&mut self, upto: usize) -> io::Result<()> {
        let mut done = 0;
        while done < upto {
            let range = self.start + done..self.start + upto;
            #[cfg(test)]
            if std::mem::take(&mut self.refuse) && self.direct {
                self.buffered()?;
            }
            match self.file.write(&self.memory[range]) {
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
        self.memory
            .copy_within(self.start + upto..self.start + self.len, self.start);
        self.len -= upto;
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

    /// Writes what is left and returns the file (not synced).
    pub fn finish(mut self) -> io::Result<fs::File> {
        let whole = self.len / ALIGN * ALIGN;
        if whole > 0 {
            self.drain(whole)?;
        }
        self.buffered()?;
        if self.len > 0 {
            self.drain(self.len)?;
        }
        Ok(self.file)
    }
}

impl Write for DirectFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.len == BUFFER {
            self.drain(BUFFER)?;
        }
        let taken = bytes.len().min(BUFFER - self.len);
        let at = self.start + self.len;
        self.memory[at..at + taken].copy_from_slice(&bytes[..taken]);
        self.len += taken;
        Ok(taken)
    }

    /// Bytes stay gathered until a whole buffer or `finish`: a direct
    /// write cannot end inside a block.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
        assert!(!out.direct);
        out.finish().unwrap();
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
}
