//! Reading a member import upload: the multipart body within the size limit, then the first
//! sheet of the workbook into raw rows, with the number of cells, their length and their total
//! text capped while the sheet is streamed (the zip itself is checked first, see
//! [`super::xlsx_limits`]).

use super::xlsx::COLUMNS;
use crate::error::{AppError, Result};
use crate::files::model;
use axum::extract::multipart::{Multipart, MultipartRejection};
use calamine::{DataRef, Reader, Xlsx};
use std::collections::BTreeMap;

/// Most data rows one import file may hold.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Most non-empty cells kept while reading (the template has 6 columns; room for a few more).
pub const MAX_CELLS: usize = 800_000;
/// Longest cell text in bytes (no template column comes near it).
pub const MAX_CELL_BYTES: usize = 4096;
/// Most cell text kept while reading, in bytes.
pub const MAX_TEXT_BYTES: usize = 24 << 20;

/// Answer to anything that is not an xlsx workbook.
pub const NOT_XLSX: &str = "只支持 Excel 文件（.xlsx），请下载导入模板填写后上传";

/// A data row as read from the sheet, cells in [`COLUMNS`] order.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    /// Spreadsheet row number.
    pub row: u32,
    /// Trimmed cell texts.
    pub cells: [String; 6],
    /// The ID cell held a number (Excel rounds 18 digits, so the value is lost).
    pub id_is_number: bool,
}

/// Read `file` (and an optional `purpose`) from the multipart body within the import limit.
pub async fn read_file(mp: std::result::Result<Multipart, MultipartRejection>) -> Result<Vec<u8>> {
    let mut mp = mp.map_err(|_| {
        AppError::UnsupportedMediaType("请使用 multipart/form-data 上传文件".into())
    })?;
    let max = model::purpose("import").map_or(20 * 1024 * 1024, |p| p.max_bytes);
    let too_big = || AppError::PayloadTooLarge(format!("导入文件不能超过 {} MB", max >> 20));
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
            too_big()
        } else {
            AppError::BadRequest("上传数据格式不正确".into())
        }
    };
    let mut bytes = None;
    while let Some(mut field) = mp.next_field().await.map_err(broken)? {
        match field.name() {
            Some("purpose") => {
                let purpose = field.text().await.map_err(broken)?;
                if purpose.trim() != "import" {
                    return Err(AppError::field(
                        "purpose",
                        "导入会员时文件用途只能是 import",
                    ));
                }
            }
            Some("file") => {
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    if buf.len() + chunk.len() > max {
                        return Err(too_big());
                    }
                    buf.extend_from_slice(&chunk);
                }
                bytes = Some(buf);
            }
            _ => {}
        }
    }
    match bytes {
        None => Err(AppError::field("file", "请选择要导入的文件")),
        Some(b) if b.is_empty() => Err(AppError::field("file", "文件为空")),
        Some(b) => Ok(b),
    }
}

/// Bytes of a text cell's raw value, read before it is copied.
fn raw_len(v: &DataRef<'_>) -> usize {
    match v {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len(),
        DataRef::SharedString(s) => s.len(),
        _ => 0,
    }
}

/// Cell text and whether the cell was numeric.
fn cell_text(v: &DataRef<'_>) -> (String, bool) {
    match v {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            (s.trim().to_string(), false)
        }
        DataRef::SharedString(s) => (s.trim().to_string(), false),
        DataRef::Int(i) => (i.to_string(), true),
        // Whole numbers (a phone typed as a number) read back without `.0`.
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => ((*f as i64).to_string(), true),
        DataRef::Float(f) => (f.to_string(), true),
        DataRef::Bool(b) => (b.to_string(), false),
        DataRef::DateTime(d) => (d.to_string(), false),
        DataRef::Error(_) => ("#错误".into(), false),
        DataRef::Empty => (String::new(), false),
    }
}

/// Header text normalised for matching (`姓名*` and ` 姓名 ` match `姓名`).
fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !['*', '＊'].contains(c))
        .collect()
}

/// Parse the first sheet: the first non-empty row is the header, columns matched by name.
pub fn parse(bytes: Vec<u8>) -> Result<Vec<RawRow>> {
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|_| AppError::UnsupportedMediaType(NOT_XLSX.into()))?;
    let unreadable = |_| AppError::field("file", "无法读取表格内容，请确认文件未损坏");
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| AppError::field("file", "文件中没有工作表"))?;
    let mut reader = wb.worksheet_cells_reader(&sheet).map_err(unreadable)?;
    // Streamed so an oversized sheet is refused without holding all of it: cells, their
    // length and their total are capped before any text is copied.
    let mut rows: BTreeMap<u32, Vec<(u32, String, bool)>> = BTreeMap::new();
    let (mut cells, mut text_bytes) = (0usize, 0usize);
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (r, c) = cell.get_position();
        let len = raw_len(cell.get_value());
        if len > MAX_CELL_BYTES {
            return Err(AppError::field(
                "file",
                format!(
                    "第 {} 行有单元格内容过长（超过 {MAX_CELL_BYTES} 字节），请检查后再导入",
                    r + 1
                ),
            ));
        }
        let (text, numeric) = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        cells += 1;
        text_bytes += text.len();
        if cells > MAX_CELLS || text_bytes > MAX_TEXT_BYTES {
            return Err(AppError::PayloadTooLarge(
                "表格内容过多，请只保留导入模板中的列，并拆分文件后分批导入".into(),
            ));
        }
        if !rows.contains_key(&r) && rows.len() > MAX_IMPORT_ROWS {
            return Err(AppError::field(
                "file",
                format!("一次最多导入 {MAX_IMPORT_ROWS} 行，请拆分文件后分批导入"),
            ));
        }
        rows.entry(r).or_default().push((c, text, numeric));
    }
    let (_, header) = rows
        .pop_first()
        .ok_or_else(|| AppError::field("file", "文件中没有数据"))?;
    let mut col_of: [Option<u32>; 6] = [None; 6];
    for (c, text, _) in &header {
        let key = header_key(text);
        if let Some(i) = COLUMNS.iter().position(|col| col.1 == key) {
            col_of[i].get_or_insert(*c);
        }
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(col_of)
        .filter(|(col, at)| col.2 && at.is_none())
        .map(|(col, _)| col.1)
        .collect();
    if !missing.is_empty() {
        return Err(AppError::field(
            "file",
            format!("缺少必填列：{}，请使用导入模板", missing.join("、")),
        ));
    }
    let out: Vec<RawRow> = rows
        .into_iter()
        .map(|(r, cells)| {
            let mut raw = RawRow {
                row: r + 1,
                ..RawRow::default()
            };
            for (c, text, numeric) in cells {
                if let Some(i) = col_of.iter().position(|at| *at == Some(c)) {
                    raw.cells[i] = text;
                    raw.id_is_number |= i == 1 && numeric;
                }
            }
            raw
        })
        .filter(|r| r.cells.iter().any(|c| !c.is_empty()))
        .collect();
    if out.is_empty() {
        return Err(AppError::field("file", "文件中没有会员数据"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_cells_read_as_whole_numbers() {
        assert_eq!(
            cell_text(&DataRef::Float(13812345678.0)),
            ("13812345678".into(), true)
        );
        assert_eq!(header_key(" 姓名* "), "姓名");
    }
}
