//! Item 5 on the real binary: xlsx bombs are refused and the server's peak memory stays under
//! 300 MB. The server runs under `ulimit -v`, so a regression fails this test instead of
//! exhausting the machine.

use super::xlsx::{HEADERS, rezip, send_import, workbook};
use crate::support::*;
use reqwest::StatusCode;
use std::io::Write;

/// Peak resident memory the server may reach, bombs included.
const MAX_PEAK_KB: u64 = 300 * 1024;

/// `VmHWM` (peak resident set) of the server, kB.
fn peak_kb(srv: &Server) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{}/status", srv.child.id())).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Start the binary on `dir` with its address space capped at 3 GB.
async fn start(dir: &std::path::Path, http: &reqwest::Client) -> Server {
    Server::start(dir, http, Some("ulimit -v 3000000"), None).await
}

/// A sheet whose first cell is an inline string, up to the start of its text.
const INLINE_CELL_START: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>"#;

/// Shared strings: the template header, then one string of `long` bytes (index 6).
fn shared_strings(long: usize, declared: &str) -> Vec<u8> {
    let mut s = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{declared}" uniqueCount="{declared}">"#
    );
    for h in HEADERS {
        s.push_str(&format!("<si><t>{h}</t></si>"));
    }
    s.push_str(&format!("<si><t>{}</t></si></sst>", "a".repeat(long)));
    s.into_bytes()
}

/// A sheet: the header row, then `rows` rows of six cells that all show shared string 6.
fn sheet(w: &mut dyn Write, rows: u32) {
    w.write_all(br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">"#).unwrap();
    for (i, col) in ["A", "B", "C", "D", "E", "F"].iter().enumerate() {
        write!(w, r#"<c r="{col}1" t="s"><v>{i}</v></c>"#).unwrap();
    }
    w.write_all(b"</row>").unwrap();
    for r in 2..rows + 2 {
        write!(w, r#"<row r="{r}">"#).unwrap();
        for col in ["A", "B", "C", "D", "E", "F"] {
            write!(w, r#"<c r="{col}{r}" t="s"><v>6</v></c>"#).unwrap();
        }
        w.write_all(b"</row>").unwrap();
    }
    w.write_all(b"</sheetData></worksheet>").unwrap();
}

/// Four bombs against the real binary, each refused (413, or 400 for an overlong cell), the server
/// still up after them and its peak RSS under 300 MB: 540 000 cells each showing one
/// 4000-character string (2 GB of text for a reader that copies every cell), a shared-strings
/// part declaring 10^12 strings (a reader that reserves room for them aborts), a sheet
/// inflating past 64 MB, and one cell of 60 MB.
#[tokio::test]
async fn xlsx_bombs_are_refused_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let srv = start(dir.path(), &http).await;
    let token = srv.admin_token(&http).await;
    let base = workbook(&[]);

    let sst = shared_strings(4000, "7");
    let cells = rezip(
        &base,
        &[
            ("xl/sharedStrings.xml", &|w: &mut dyn Write| {
                w.write_all(&sst).unwrap()
            }),
            ("xl/worksheets/sheet1.xml", &|w: &mut dyn Write| {
                sheet(w, 90_000)
            }),
        ],
    );
    let lying = shared_strings(10, "1000000000000");
    let declared = rezip(
        &base,
        &[("xl/sharedStrings.xml", &|w: &mut dyn Write| {
            w.write_all(&lying).unwrap()
        })],
    );
    let inflating = rezip(
        &base,
        &[("xl/worksheets/sheet1.xml", &|w: &mut dyn Write| {
            sheet(w, 0);
            let filler = b"<x/>".repeat(1 << 18);
            for _ in 0..70 {
                w.write_all(&filler).unwrap();
            }
        })],
    );
    let one_cell = rezip(
        &base,
        &[("xl/worksheets/sheet1.xml", &|w: &mut dyn Write| {
            w.write_all(INLINE_CELL_START).unwrap();
            let a = vec![b'a'; 1 << 20];
            for _ in 0..60 {
                w.write_all(&a).unwrap();
            }
            w.write_all(b"</t></is></c></row></sheetData></worksheet>")
                .unwrap();
        })],
    );
    let bombs = [
        ("cells", cells, StatusCode::PAYLOAD_TOO_LARGE),
        ("declared", declared, StatusCode::PAYLOAD_TOO_LARGE),
        ("inflating", inflating, StatusCode::PAYLOAD_TOO_LARGE),
        ("one cell", one_cell, StatusCode::BAD_REQUEST),
    ];
    for (name, bomb, want) in bombs {
        let size = bomb.len();
        assert!(size < 3 << 20, "{name}: {size} bytes");
        let r = send_import(&http, &srv.base, &token, bomb).await;
        assert_eq!(r.status, want, "{name} ({size} bytes): {:?}", r.body);
        let text = r.body["error"].to_string();
        assert!(
            ["过大", "过多", "过长"].iter().any(|w| text.contains(w)),
            "{name}: {text}"
        );
        let up = http.get(format!("{}/healthz", srv.base)).send().await;
        assert!(
            up.is_ok_and(|r| r.status() == StatusCode::OK),
            "server down after {name}"
        );
        let peak = peak_kb(&srv);
        eprintln!("after {name} ({size} bytes): peak RSS {} MB", peak / 1024);
        assert!(peak < MAX_PEAK_KB, "{name}: peak RSS {peak} kB");
    }
}
