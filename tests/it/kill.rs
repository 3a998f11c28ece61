//! A run killed at any moment (SIGKILL, so nothing of recon's own runs
//! after it) leaves in `--out` either the previous run's complete outputs
//! or the new run's complete outputs, never a mix, never a half-written
//! file; the next run cleans up what the killed one left beside `--out`.
//!
//! `KILL_CASES` sets the number of kills (default 24: half through the
//! atomic exchange, half through the rename-aside fallback).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Rng;

/// Every entry of `dir`: name -> bytes (`None` for a directory).
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let bytes = e
                        .file_type()
                        .ok()
                        .filter(|t| t.is_file())
                        .and_then(|_| std::fs::read(e.path()).ok());
                    (name, bytes)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Entries beside `out` that a run left (`.NAME.recon-*`).
fn leftovers(out: &Path) -> Vec<String> {
    let prefix = format!(".{}.recon-", out.file_name().unwrap().to_string_lossy());
    snapshot(out.parent().unwrap())
        .into_keys()
        .filter(|name| name.starts_with(&prefix))
        .collect()
}

#[test]
fn a_run_killed_at_any_moment_leaves_the_previous_or_the_new_outputs() {
    let kills: usize = std::env::var("KILL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let dir = std::env::temp_dir().join(format!("recon-it-{}-kill", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    recon::synth::write_dataset(
        &recon::synth::SynthOptions {
            lines: 20_000,
            seed: 5,
        },
        &data,
    )
    .expect("generate");
    let command = |with_advices: bool, out: &Path| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_recon"));
        command
            .arg("run")
            .arg("--open-items")
            .arg(data.join("open_items.csv"))
            .arg("--customers")
            .arg(data.join("customers.csv"))
            .arg("--statements")
            .arg(data.join("statements"));
        // Without the advices the run decides differently: two distinct
        // complete output sets to tell apart.
        if with_advices {
            command.arg("--remittances").arg(data.join("remittances"));
            command.arg("--settlements").arg(data.join("settlements"));
        }
        command.arg("--out").arg(out).arg("--quiet");
        command
    };
    // The two complete output sets, and how long a run takes.
    let mut complete = Vec::new();
    let mut longest = Duration::ZERO;
    for with_advices in [true, false] {
        let reference = dir.join(format!("reference-{with_advices}"));
        let started = Instant::now();
        let status = command(with_advices, &reference).status().expect("run");
        longest = longest.max(started.elapsed());
        assert!(status.success());
        complete.push(snapshot(&reference));
    }
    assert_ne!(complete[0], complete[1], "the two runs must differ");

    let out = dir.join("out");
    assert!(command(true, &out).status().unwrap().success());
    let mut rng = Rng::new(0x4B11_2026);
    let (mut kept, mut replaced, mut restored) = (0, 0, 0);
    let mut previous = 0;
    let window_us = (longest.as_micros() as u64 * 13 / 10).max(1);
    for case in 0..kills {
        let with_advices = case % 4 < 2;
        let mut run = command(with_advices, &out);
        if case % 2 == 1 {
            run.env("RECON_WRITE_NO_EXCHANGE", "1");
        }
        let delay = Duration::from_micros(rng.below(window_us as usize) as u64);
        let mut child = run.spawn().expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let mut now = snapshot(&out);
        if now.is_empty() && !out.exists() {
            // Killed between the fallback's two renames: the previous
            // outputs are aside, and the next run puts them back first.
            let status = Command::new(env!("CARGO_BIN_EXE_recon"))
                .args(["run", "--open-items", "/nonexistent.csv"])
                .args(["--statements", "/nonexistent.xml", "--out"])
                .arg(&out)
                .status()
                .unwrap();
            assert_eq!(status.code(), Some(2));
            now = snapshot(&out);
            restored += 1;
        }
        let target = if with_advices { 0 } else { 1 };
        let which = complete.iter().position(|set| *set == now);
        assert!(
            which == Some(previous) || which == Some(target),
            "case {case} (killed after {delay:?}): --out is neither the previous nor the new complete set: {:?}",
            now.keys().collect::<Vec<_>>()
        );
        if previous != target {
            if which == Some(target) {
                replaced += 1;
            } else {
                kept += 1;
            }
        }
        previous = which.unwrap_or(previous);
    }
    eprintln!(
        "kill: {kills} runs killed within {window_us} µs: --out held a complete set every time (where they differ: {kept} previous, {replaced} new; {restored} restored from aside)"
    );
    // A completed run cleans everything the killed ones left.
    assert!(command(false, &out).status().unwrap().success());
    assert_eq!(snapshot(&out), complete[1]);
    assert_eq!(leftovers(&out), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

fn basic_run(out: &Path) -> std::process::Output {
    let fixture = |name: &str| crate::fixtures_dir().join(name);
    Command::new(env!("CARGO_BIN_EXE_recon"))
        .arg("run")
        .arg("--open-items")
        .arg(fixture("run/basic/open_items.csv"))
        .arg("--statements")
        .arg(fixture("camt053/v02-mixed.xml"))
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .expect("run")
}

#[test]
fn what_a_killed_run_left_beside_out_is_put_back_or_removed() {
    let dir = std::env::temp_dir().join(format!("recon-it-{}-leftovers", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    assert!(basic_run(&out).status.success());
    let complete = snapshot(&out);
    // As a run killed between the fallback's two renames leaves it: the
    // previous outputs aside, `--out` absent, and a staging directory.
    let dead = 999_999_999u32;
    std::fs::rename(&out, dir.join(format!(".out.recon-old-{dead}"))).unwrap();
    let staging = dir.join(format!(".out.recon-new-{dead}-0"));
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("allocations.csv"), "half").unwrap();
    // Even a run that stops on bad input first puts them back.
    let refused = Command::new(env!("CARGO_BIN_EXE_recon"))
        .args(["run", "--open-items", "/nonexistent.csv"])
        .args(["--statements", "/nonexistent.xml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(snapshot(&out), complete);
    assert_eq!(leftovers(&out), Vec::<String>::new());

    // With `--out` there, an aside copy holding a file found nowhere else
    // is kept; one holding only outputs is removed.
    let kept = dir.join(format!(".out.recon-old-{dead}"));
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::write(kept.join("notes.txt"), "only copy").unwrap();
    let removed = dir.join(".out.recon-old-999999998");
    std::fs::create_dir_all(&removed).unwrap();
    std::fs::write(removed.join("allocations.csv"), "old").unwrap();
    assert!(basic_run(&out).status.success());
    assert_eq!(leftovers(&out), vec![format!(".out.recon-old-{dead}")]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_recon_does_not_write_stay_and_subdirectories_are_refused() {
    let dir = std::env::temp_dir().join(format!("recon-it-{}-foreign", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "kept\n").unwrap();
    std::fs::write(out.join("allocations.csv"), "previous run\n").unwrap();
    let first = basic_run(&out);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "kept\n"
    );
    assert_ne!(
        std::fs::read_to_string(out.join("allocations.csv")).unwrap(),
        "previous run\n"
    );
    let before = snapshot(&out);
    std::fs::create_dir(out.join("archive")).unwrap();
    let refused = basic_run(&out);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("holds a subdirectory (archive)") && stderr.contains("out"),
        "{stderr}"
    );
    std::fs::remove_dir(out.join("archive")).unwrap();
    assert_eq!(snapshot(&out), before);
    // `--out` naming a file is refused the same way.
    let refused = basic_run(&out.join("notes.txt"));
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("names a file"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_symlinked_out_is_followed_and_the_working_directory_refused() {
    let dir = std::env::temp_dir().join(format!("recon-it-{}-symlink", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let real = dir.join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::write(real.join("allocations.csv"), "previous run\n").unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let output = basic_run(&link);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let written = std::fs::read_to_string(real.join("allocations.csv")).unwrap();
    assert!(written.starts_with("line_id,"), "{written}");

    let refused = Command::new(env!("CARGO_BIN_EXE_recon"))
        .current_dir(&real)
        .arg("run")
        .arg("--open-items")
        .arg(crate::fixtures_dir().join("run/basic/open_items.csv"))
        .arg("--statements")
        .arg(crate::fixtures_dir().join("camt053/v02-mixed.xml"))
        .args(["--out", "."])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--out is the working directory"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(real.join("allocations.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
