//! A plain one-sheet xlsx of text cells, shared by the claim and mall-order exports: every
//! cell neutralised against formula injection.

use crate::error::{AppError, Result};
use crate::members::xlsx::neutralise;
use rust_xlsxwriter::{Format, Workbook};

/// Most rows one export holds.
pub const MAX_ROWS: i64 = 100_000;

/// Build a workbook with one sheet `name`: a bold header row, then `rows`.
pub fn sheet(name: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let build = || -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(name)?;
        let bold = Format::new().set_bold();
        for (i, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *h, &bold)?;
            ws.set_column_width(i as u16, 18)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, i as u16, neutralise(v).as_ref())?;
            }
        }
        wb.save_to_buffer()
    };
    build().map_err(|e| AppError::internal(format!("xlsx: {e}")))
}

/// A file-name-safe short form of a title.
pub fn safe_name(title: &str) -> String {
    title
        .chars()
        .filter(|c| !"\\/:*?\"<>|".contains(*c))
        .take(40)
        .collect()
}
