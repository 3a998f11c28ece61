//! Settings of the `recon` process itself, made once at start-up by the
//! binary (never by the library on its own).

/// Asks the kernel for memory in 4 KiB pages only, never transparent huge
/// pages, for the rest of the process; returns whether it is so afterwards
/// (`false` off Linux, or if the kernel refuses: the run then goes on with
/// huge pages).
///
/// mimalloc asks for huge pages. On the development machine (a VM) a huge
/// page touched for the first time costs four to eight times what its 512
/// small pages do (2 GiB: 3.4-7.2 s against 0.8-1.3 s, one thread), and a
/// million-line run spent a quarter of its CPU time in the kernel clearing
/// them. With small pages: system time 8.1 -> 1.3 s, wall 17.7 -> 14.7 s
/// (medians of 3, alternating), for about a second more of user time (TLB
/// misses).
pub fn no_huge_pages() -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE and PR_GET_THP_DISABLE take and return
    // integers; no memory of the process is read or written.
    unsafe {
        // The kernel reads `unsigned long` arguments (and refuses
        // PR_SET_THP_DISABLE with non-zero ones after the first).
        let (one, zero): (libc::c_ulong, libc::c_ulong) = (1, 0);
        libc::prctl(libc::PR_SET_THP_DISABLE, one, zero, zero, zero);
        libc::prctl(libc::PR_GET_THP_DISABLE, zero, zero, zero, zero) == 1
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// CPU time the process has used so far, all threads, user and system, in
/// milliseconds (`getrusage`; 0 where it fails): with the wall time of a
/// stage, how many cores it kept busy.
pub fn cpu_ms() -> u64 {
    #[cfg(unix)]
    // SAFETY: `getrusage` writes one `rusage`, which is plain data, into
    // the zeroed value given; nothing else is touched.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return 0;
        }
        let ms = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
        ms(usage.ru_utime) + ms(usage.ru_stime)
    }
    #[cfg(not(unix))]
    0
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn huge_pages_are_turned_off() {
        assert!(super::no_huge_pages());
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        // Reported since Linux 6.x as "THP_enabled: 0"; older kernels
        // have no such line.
        if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
            assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
        }
    }

    #[test]
    #[cfg(unix)]
    fn cpu_time_grows_with_work() {
        let before = super::cpu_ms();
        let started = std::time::Instant::now();
        let mut x = 1u64;
        while started.elapsed().as_millis() < 60 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let spent = super::cpu_ms() - before;
        assert!((30..5_000).contains(&spent), "{spent} ms");
    }
}
