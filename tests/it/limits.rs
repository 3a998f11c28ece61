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
