//! Limits on an uploaded workbook, checked on the zip itself before the spreadsheet reader
//! sees it: an xlsx is a zip of XML parts, and a few hundred kilobytes of zip can inflate to
//! gigabytes (a "decompression bomb"). Every part is inflated once, streaming, into nothing,
//! counting bytes, and the workbook is refused as soon as a limit is passed; the shared-strings
//! part is also read as XML, because the reader reserves memory for the count it declares.

use crate::error::{AppError, Result};
use quick_xml::events::Event;
use std::io::{BufReader, Cursor, Read};

/// Most parts (zip entries) in a workbook.
pub const MAX_ENTRIES: usize = 1_000;
/// Most bytes of all parts together, uncompressed (a full 100 000-row import is far below).
/// Also the most a single worksheet can hold, and so the longest text one cell can carry
/// before the reader hands it over to be refused.
pub const MAX_TOTAL_BYTES: u64 = 64 << 20;
/// Most bytes of a part the reader loads whole (anything but a worksheet), uncompressed.
pub const MAX_PART_BYTES: u64 = 16 << 20;
/// Most bytes of the shared-strings part, uncompressed.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 32 << 20;
/// Most shared strings, declared or present.
pub const MAX_SHARED_STRINGS: u64 = 1_000_000;
/// Longest run of bytes without `<` or `>` in any part: a text or a tag. The reader holds a
/// whole cell's text (several copies of it) before the import can look at it.
pub const MAX_RUN_BYTES: u64 = 64 << 10;

fn too_big() -> AppError {
    AppError::PayloadTooLarge(
        "表格解压后内容过大，请只保留导入模板中的列和需要导入的行后再上传".into(),
    )
}

fn too_long() -> AppError {
    AppError::field(
        "file",
        "表格中有内容过长的单元格（超过 64 KB），请检查后再导入",
    )
}

fn unreadable() -> AppError {
    AppError::field("file", "无法读取表格内容，请确认文件未损坏")
}

/// Counts what passes through and the current run without `<` or `>`, and stops (as an
/// error) one byte past `limit` or past [`MAX_RUN_BYTES`] in one run.
struct Counted<R> {
    inner: R,
    read: u64,
    limit: u64,
    run: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::other(Limit::Size));
        }
        for b in &buf[..n] {
            if matches!(b, b'<' | b'>') {
                self.run = 0;
            } else {
                self.run += 1;
                if self.run > MAX_RUN_BYTES {
                    return Err(std::io::Error::other(Limit::Run));
                }
            }
        }
        Ok(n)
    }
}

/// Which limit was passed, carried inside an I/O error.
#[derive(Debug)]
enum Limit {
    /// Uncompressed bytes.
    Size,
    /// One text or tag.
    Run,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("limit passed")
    }
}

impl std::error::Error for Limit {}

fn io_err(e: &std::io::Error) -> AppError {
    match e.get_ref().and_then(|i| i.downcast_ref::<Limit>()) {
        Some(Limit::Size) => too_big(),
        Some(Limit::Run) => too_long(),
        None => unreadable(),
    }
}

/// Check the workbook's parts against the limits; `Ok(())` means the reader may open it.
/// A zip that is not readable at all is answered like any other non-xlsx file.
pub fn check(bytes: &[u8], not_xlsx: &str) -> Result<()> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| AppError::UnsupportedMediaType(not_xlsx.into()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(too_big());
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|_| unreadable())?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(|_| unreadable())?.to_ascii_lowercase();
        let sheet = name.starts_with("xl/worksheets/")
            && name.ends_with(".xml")
            && !name.contains("/_rels/");
        let cap = if sheet {
            MAX_TOTAL_BYTES
        } else if name.ends_with("sharedstrings.xml") {
            MAX_SHARED_STRINGS_BYTES
        } else {
            MAX_PART_BYTES
        };
        let mut r = Counted {
            inner: entry,
            read: 0,
            limit: cap.min(MAX_TOTAL_BYTES - total),
            run: 0,
        };
        if name.ends_with("sharedstrings.xml") {
            shared_strings(&mut r)?;
        } else {
            std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| io_err(&e))?;
        }
        total += r.read;
    }
    Ok(())
}

/// Read the shared strings as XML: the declared counts and the strings present stay within
/// [`MAX_SHARED_STRINGS`].
fn shared_strings<R: Read>(r: &mut R) -> Result<()> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(r));
    let mut buf = Vec::with_capacity(1024);
    let mut strings = 0u64;
    loop {
        buf.clear();
        let ev = xml.read_event_into(&mut buf).map_err(|e| match e {
            quick_xml::Error::Io(io) => io_err(&io),
            _ => unreadable(),
        })?;
        match ev {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "sst" => {
                    for a in e.attributes().flatten() {
                        if matches!(a.key.local_name().as_ref(), "count" | "uniqueCount") {
                            let n: u64 = a.value.trim().parse().map_err(|_| unreadable())?;
                            if n > MAX_SHARED_STRINGS {
                                return Err(too_big());
                            }
                        }
                    }
                }
                "si" => {
                    strings += 1;
                    if strings > MAX_SHARED_STRINGS {
                        return Err(too_big());
                    }
                }
                _ => {}
            },
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of `(name, content)` parts, deflated.
    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in parts {
            w.start_file(*name, opts).unwrap();
            w.write_all(content).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Parts inflating past their limits, and a huge declared string count, are refused;
    /// a small workbook-like zip passes.
    #[test]
    fn bombs_are_refused_and_small_workbooks_pass() {
        let small = zip_of(&[("xl/worksheets/sheet1.xml", b"<worksheet/>")]);
        assert!(check(&small, "x").is_ok());
        let styles = b"<x/>".repeat((MAX_PART_BYTES / 4 + 1) as usize);
        let bomb = zip_of(&[("xl/styles.xml", &styles)]);
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        assert!(matches!(
            check(&bomb, "x"),
            Err(AppError::PayloadTooLarge(_))
        ));
        let sst = br#"<?xml version="1.0"?><sst xmlns="x" count="1" uniqueCount="99999999999"><si><t>a</t></si></sst>"#;
        let lying = zip_of(&[("xl/sharedStrings.xml", sst)]);
        assert!(matches!(
            check(&lying, "x"),
            Err(AppError::PayloadTooLarge(_))
        ));
        let long = [b"<t>".as_slice(), &[b'a'; 70_000], b"</t>"].concat();
        let cell = zip_of(&[("xl/worksheets/sheet1.xml", &long)]);
        assert!(matches!(check(&cell, "x"), Err(AppError::Validation(_))));
        assert!(matches!(
            check(b"PK\x03\x04 not really", "x"),
            Err(AppError::UnsupportedMediaType(_))
        ));
    }
}
