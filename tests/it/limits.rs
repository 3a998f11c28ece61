//! The named safety limits hold: hostile XML is refused quickly with a
//! located error, never expanded, never followed.

use recon::error::Location;
use recon::parse::parse_bytes;
use recon::parse::xml::ELEMENT_DEPTH_MAX;

#[test]
fn entity_bombs_and_external_entities_are_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&lol3;</Id></Stmt></BkToCstmrStmt></Document>"#;
    let error = parse_bytes("bomb.xml", bomb.as_bytes()).expect_err("a DTD is refused");
    assert!(error.message.contains("DOCTYPE"), "{error}");
    assert!(
        matches!(error.location, Location::Element { line: 2..=3, .. }),
        "{error}"
    );

    let external = r#"<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>"#;
    let error = parse_bytes("xxe.xml", external.as_bytes()).expect_err("refused");
    assert!(error.message.contains("DOCTYPE"), "{error}");

    // An entity used without any declaration is an error, not an empty string.
    let undeclared = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>"#;
    let error = parse_bytes("undeclared.xml", undeclared.as_bytes()).expect_err("refused");
    assert!(error.message.contains("undefined entity &xxe;"), "{error}");
    assert!(
        error.to_string().contains("Document/BkToCstmrStmt/Stmt/Id"),
        "{error}"
    );
}

#[test]
fn nesting_beyond_the_depth_limit_is_refused() {
    let depth = ELEMENT_DEPTH_MAX * 100;
    let mut xml = String::from(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>"#,
    );
    for _ in 0..depth {
        xml.push_str("<X>");
    }
    for _ in 0..depth {
        xml.push_str("</X>");
    }
    xml.push_str("</Stmt></BkToCstmrStmt></Document>");
    let error = parse_bytes("deep.xml", xml.as_bytes()).expect_err("too deep");
    assert!(error.message.contains("ELEMENT_DEPTH_MAX"), "{error}");
}

#[test]
fn files_over_the_size_limit_are_refused_before_reading() {
    let path = std::env::temp_dir().join(format!("recon-huge-{}.xml", std::process::id()));
    let file = std::fs::File::create(&path).expect("create");
    // Sparse: costs no disk and no memory, and must not be read.
    file.set_len(recon::parse::xml::FILE_SIZE_MAX as u64 + 1)
        .expect("set_len");
    let error = recon::input::read_file(&path).expect_err("too large");
    assert!(error.message.contains("FILE_SIZE_MAX"), "{error}");
    assert_eq!(error.location, Location::File);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_long_single_line_without_markup_ends_with_an_error() {
    // 20 MB of text with no tag: must be rejected, not scanned forever.
    let mut data = b"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">".to_vec();
    data.extend(std::iter::repeat_n(b'A', 20 << 20));
    let error = parse_bytes("long.xml", &data).expect_err("no end");
    assert!(error.message.contains("end of file"), "{error}");
}

#[test]
fn a_zip_archive_is_named_as_such() {
    let error = parse_bytes("statements.zip", b"PK\x03\x04\x14\x00\x00\x00rest")
        .expect_err("not a statement");
    assert_eq!(error.location, Location::File);
    assert!(error.message.contains("ZIP archive"), "{error}");
}

/// Runs `recon ARGS` and returns its exit code, its stderr and its peak
/// resident memory in MiB. Measured through a small Python parent: Linux
/// carries a process's peak across `exec`, so a child spawned by this
/// (large, multi-threaded) test process would report the test's own peak.
#[cfg(target_os = "linux")]
fn recon_measured(args: &[&std::ffi::OsStr]) -> (i32, String, u64) {
    const WRAPPER: &str = "import os, sys\npid = os.fork()\nif pid == 0:\n    os.execv(sys.argv[1], sys.argv[1:])\n_, status, usage = os.wait4(pid, 0)\nprint(usage.ru_maxrss)\nsys.exit(os.waitstatus_to_exitcode(status))\n";
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(WRAPPER)
        .arg(env!("CARGO_BIN_EXE_recon"))
        .args(args)
        .output()
        .expect("python3 (CI has it for check-run.py)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let peak_kib: u64 = stdout
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("peak from the wrapper");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        peak_kib / 1024,
    )
}

fn limits_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("recon-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 2 GB file of one line (sparse: no disk, and it must not be read) is
/// refused in every role, naming the limit, in a few MiB of memory.
#[cfg(target_os = "linux")]
#[test]
fn a_2_gb_single_line_file_is_refused_in_bounded_memory() {
    let dir = limits_dir("2gb");
    let huge = dir.join("huge.txt");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(2_000_000_000)
        .unwrap();
    let items = crate::fixtures_dir().join("run/basic/open_items.csv");
    let camt = crate::fixtures_dir().join("camt053/v02-mixed.xml");
    let out = dir.join("out");
    let os = |p: &std::path::Path| p.as_os_str().to_owned();
    // `recon parse`, then `recon run` with the huge file in each role and
    // good files in the others.
    let mut roles: Vec<Vec<std::ffi::OsString>> = vec![vec!["parse".into(), os(&huge)]];
    for role in [
        "--open-items",
        "--customers",
        "--statements",
        "--remittances",
        "--config",
    ] {
        let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
        for (flag, good) in [("--open-items", &items), ("--statements", &camt)] {
            if flag != role {
                args.extend([flag.into(), os(good)]);
            }
        }
        args.extend([role.into(), os(&huge)]);
        roles.push(args);
    }
    for mut args in roles {
        if args[0] == "run" {
            args.extend(["--out".into(), os(&out)]);
        }
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (code, stderr, peak_mib) = recon_measured(&refs);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("huge.txt") && stderr.contains("FILE_SIZE_MAX"),
            "{args:?}: {stderr}"
        );
        eprintln!("{:?}: exit 2, peak {peak_mib} MiB", args[0]);
        assert!(peak_mib < 32, "{args:?}: peak {peak_mib} MiB");
    }
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Under the size limit, a file of one 64 MiB line is refused by every
/// line-oriented reader with the line and the limit named, its memory the
/// file read once plus a little: never copies of the line.
#[cfg(target_os = "linux")]
#[test]
fn a_64_mib_line_is_refused_by_the_line_readers_in_bounded_memory() {
    let dir = limits_dir("long-line");
    let size = 64 << 20;
    let write = |name: &str, head: &[u8]| {
        let path = dir.join(name);
        let mut data = head.to_vec();
        data.resize(size, b'7');
        std::fs::write(&path, data).unwrap();
        path
    };
    let items_header = b"invoice_id,customer_id,customer_name,issue_date,due_date,currency,amount,open_amount\nFA-1,C1,";
    let cases = [
        (write("items.csv", items_header), "--open-items", "line 2: row longer than"),
        (write("header.csv", b"invoice_id"), "--open-items", "line 1: row longer than"),
        (write("customers.csv", b"customer_id,name\nC1,"), "--customers", "line 2: row longer than"),
        (write("advices.csv", b"advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount\nA1,"), "--remittances", "line 2: row longer than"),
        (write("long.sta", b":20:X\n:25:"), "--statements", "line 2: line longer than"),
    ];
    let items = crate::fixtures_dir().join("run/basic/open_items.csv");
    let camt = crate::fixtures_dir().join("camt053/v02-mixed.xml");
    let out = dir.join("out");
    for (path, role, message) in &cases {
        let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
        if *role != "--open-items" {
            args.extend(["--open-items".into(), items.clone().into()]);
        }
        if *role != "--statements" {
            args.extend(["--statements".into(), camt.clone().into()]);
        }
        args.extend([
            (*role).into(),
            path.clone().into(),
            "--out".into(),
            out.clone().into(),
        ]);
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (code, stderr, peak_mib) = recon_measured(&refs);
        assert_eq!(code, 2, "{role}: {stderr}");
        assert!(stderr.contains(message), "{role}: {stderr}");
        eprintln!("{role}: exit 2, peak {peak_mib} MiB");
        assert!(peak_mib < 64 + 32, "{role}: peak {peak_mib} MiB");
    }
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csv_files_that_are_not_utf8_are_refused_naming_line_and_column() {
    let latin1 = |text: &str| -> Vec<u8> { text.chars().map(|c| c as u32 as u8).collect() };
    let items = latin1(
        "invoice_id,customer_id,customer_name,issue_date,due_date,currency,amount,open_amount\nFA-1,C1,Société Générale,2026-01-01,2026-02-01,EUR,10.00,10.00\n",
    );
    let error = recon::parse::open_items::parse("items.csv", &items).expect_err("Latin-1");
    assert_eq!(
        error.to_string(),
        "items.csv: line 2, column customer_name: not valid UTF-8 (the contract's CSV files are UTF-8)"
    );
    let customers = latin1("customer_id,name\nC1,Société\n");
    let error = recon::parse::customers::parse("customers.csv", &customers).expect_err("Latin-1");
    assert!(
        error
            .to_string()
            .starts_with("customers.csv: line 2, column name: not valid UTF-8"),
        "{error}"
    );
    let advices = latin1(
        "advice_id,payer_name,payment_date,payment_amount,currency,invoice_id,paid_amount\nA1,Société,2026-01-01,10.00,EUR,FA-1,10.00\n",
    );
    let error = parse_bytes("advices.csv", &advices).expect_err("Latin-1");
    assert!(
        error
            .to_string()
            .starts_with("advices.csv: line 2, column payer_name: not valid UTF-8"),
        "{error}"
    );
}
