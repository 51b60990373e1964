//! The xlsx of a statistics table: a title line, the header, one line per row.

use super::model::StatsTable;
use crate::error::Result;
use crate::members::xlsx::{neutralise, write_header, xlsx_err};
use rust_xlsxwriter::Workbook;

/// The workbook bytes (run off the executor).
pub fn xlsx(t: &StatsTable) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(t.topic.label()).map_err(xlsx_err)?;
    let mut headers: Vec<(&str, f64)> = vec![(t.group_by.label(), 28.0)];
    headers.extend(t.columns.iter().map(|c| (c.label, 14.0)));
    write_header(ws, &headers).map_err(xlsx_err)?;
    for (i, r) in t.rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, neutralise(&r.label))
            .map_err(xlsx_err)?;
        for (j, v) in r.values.iter().enumerate() {
            if let Some(v) = v {
                ws.write_number(row, j as u16 + 1, *v).map_err(xlsx_err)?;
            }
        }
    }
    let foot = t.rows.len() as u32 + 2;
    let period = match (&t.from, &t.to) {
        (None, None) => "全部时间".to_string(),
        (f, to) => format!(
            "{} 至 {}",
            f.as_deref().unwrap_or("最早"),
            to.as_deref().unwrap_or("今天")
        ),
    };
    ws.write_string(
        foot,
        0,
        neutralise(&format!(
            "统计范围：{}及下级（权限范围内）；时间：{period}",
            t.org_name
        )),
    )
    .map_err(xlsx_err)?;
    wb.save_to_buffer().map_err(xlsx_err)
}
