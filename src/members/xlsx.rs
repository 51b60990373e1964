//! Member spreadsheets for staff: the import template and the export (masked unless the
//! exporter may reveal, formula injection neutralised, audited). The import itself lives in
//! [`super::xlsx_import`].

use super::admin::{MemberQuery, filter};
use super::repo::{AAD_ID, AAD_PHONE};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppQuery, Result};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use rusqlite::{params_from_iter, types::Value};
use rust_xlsxwriter::{Color, Format, Workbook, Worksheet, XlsxError};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Content type of an xlsx workbook.
pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Import columns: key used in error reports, Chinese header, required.
pub const COLUMNS: [(&str, &str, bool); 6] = [
    ("name", "姓名", true),
    ("id_number", "身份证号", true),
    ("phone", "手机号", false),
    ("org_code", "所属组织编码", true),
    ("work_unit", "工作单位", true),
    ("job_title", "职务", false),
];

/// Name in the template's example row; with [`EXAMPLE_ID`] the row is refused on import.
pub const EXAMPLE_NAME: &str = "张三";
/// ID number of the template's example row (the GB 11643 sample number).
pub const EXAMPLE_ID: &str = "11010519491231002X";

/// Most rows one export may hold; a larger selection must be narrowed by filters.
pub const MAX_EXPORT_ROWS: usize = 100_000;

/// Exports build their workbook in memory; they take turns so memory stays bounded.
static EXPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Prefix a cell that a spreadsheet program would read as a formula (`= + - @`, tab, CR)
/// with `'`, so an exported value can never run as a formula (CSV re-save included).
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Percent-encode for `filename*=UTF-8''…` (RFC 5987): everything but unreserved ASCII.
fn rfc5987(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An xlsx download: Chinese file name with an ASCII fallback, never cached.
pub fn xlsx_response(bytes: Vec<u8>, name: &str, ascii_name: &str) -> Result<Response> {
    // Member lists are personal data: no shared or browser cache may keep them.
    crate::http::private_attachment(
        XLSX_MIME,
        bytes.len() as u64,
        &format!(
            "filename=\"{ascii_name}\"; filename*=UTF-8''{}",
            rfc5987(name)
        ),
        Body::from(bytes),
    )
}

/// An xlsx writer error as a 500.
pub fn xlsx_err(e: XlsxError) -> AppError {
    AppError::internal(format!("xlsx: {e}"))
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
}

/// Write a bold header row and set column widths.
pub fn write_header(ws: &mut Worksheet, headers: &[(&str, f64)]) -> Result<(), XlsxError> {
    let bold = header_format();
    for (col, (title, width)) in headers.iter().enumerate() {
        let col = col as u16;
        ws.write_string_with_format(0, col, *title, &bold)?;
        ws.set_column_width(col, *width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Build the import template; `org_code` fills the example row.
fn template_bytes(org_code: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("会员导入")?;
    let widths = [12.0, 24.0, 16.0, 16.0, 30.0, 16.0];
    let headers: Vec<(&str, f64)> = COLUMNS.iter().map(|c| c.1).zip(widths).collect();
    write_header(ws, &headers)?;
    // Text format keeps 18-digit IDs and phone numbers from turning into rounded numbers.
    for col in 0..COLUMNS.len() as u16 {
        ws.set_column_format(col, &text)?;
    }
    let example = [
        EXAMPLE_NAME,
        EXAMPLE_ID,
        "13800138000",
        org_code,
        "示例县供电公司",
        "职工",
    ];
    for (col, v) in example.iter().enumerate() {
        ws.write_string_with_format(1, col as u16, neutralise(v), &text)?;
    }
    let help = wb.add_worksheet();
    help.set_name("填写说明")?;
    help.set_column_width(0, 100)?;
    let lines = [
        "1. 第一行为列名，请勿修改；从第二行开始每行填写一名会员，导入前请删除示例行。",
        "2. 姓名、身份证号、所属组织编码、工作单位为必填；手机号、职务可不填。",
        "3. 身份证号为 18 位居民身份证号码，请将单元格设为“文本”格式，避免末位变为 0。",
        "4. 所属组织编码须为您管理范围内的组织编码，可在“组织管理”中查看。",
        "5. 同一身份证号只能登记一名会员；文件内重复或已登记的身份证号会逐行报告。",
        "6. 格式正确的行会被导入，有问题的行会列出行号和原因，修改后可只导入这些行。",
    ];
    for (row, line) in lines.iter().enumerate() {
        help.write_string(row as u32, 0, *line)?;
    }
    wb.save_to_buffer()
}

/// Download the member import template (header row and one example row).
#[utoipa::path(get, path = "/api/v1/admin/members/import-template", tag = "会员管理", security(("bearer" = [])),
    responses((status = 200, description = "会员导入模板（xlsx）", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403)))]
pub async fn template(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    me.require(codes::MEMBER_IMPORT)?;
    let org_id = me.org_id;
    let code = st
        .db
        .read(move |c| {
            Ok(crate::system::org_repo::get(c, org_id)?
                .map(|o| o.code)
                .unwrap_or_default())
        })
        .await?;
    let bytes = tokio::task::spawn_blocking(move || template_bytes(&code))
        .await
        .map_err(AppError::internal)?
        .map_err(xlsx_err)?;
    xlsx_response(bytes, "会员导入模板.xlsx", "member-import-template.xlsx")
}

/// Filters for the member export (the same as the member list, without paging).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this org and below.
    pub org_id: Option<i64>,
    /// Status.
    pub status: Option<String>,
    /// Name (contains), member number (exact) or phone last 4 digits.
    pub q: Option<String>,
}

/// One exported member, personal fields already masked or revealed.
struct Row {
    member_no: Option<String>,
    name: Option<String>,
    gender: Option<String>,
    birth_date: Option<String>,
    phone: Option<String>,
    id_number: Option<String>,
    org_name: Option<String>,
    org_code: Option<String>,
    work_unit: Option<String>,
    job_title: Option<String>,
    status: String,
    joined_at: Option<i64>,
    created_at: i64,
}

fn gender_label(g: &str) -> &'static str {
    match g {
        "male" => "男",
        "female" => "女",
        _ => "",
    }
}

fn status_label(s: &str) -> &'static str {
    match s {
        "registered" => "已注册",
        "pending" => "待审核",
        "active" => "在册",
        "rejected" => "未通过",
        "left" => "已退会",
        _ => "",
    }
}

/// A unix time as `YYYY-MM-DD HH:MM` in Beijing time.
fn local_time(ts: i64) -> String {
    let s = crate::time::fmt(ts);
    // RFC 3339 `2026-12-01T09:00:00+08:00` → `2026-12-01 09:00`.
    s.get(..16).map(|t| t.replace('T', " ")).unwrap_or(s)
}

/// Read the members to export, decrypting phone and ID where `reveal` covers the row.
fn load_rows(
    c: &rusqlite::Connection,
    cipher: &dyn crate::crypto::field::FieldCipher,
    scope: &Scope,
    reveal: Option<&Scope>,
    q: &MemberQuery,
) -> Result<(Vec<Row>, usize)> {
    let (wh, wp) = filter(scope, q)?;
    let count: i64 = c.query_row(
        &format!("SELECT count(*) FROM members m WHERE {wh}"),
        params_from_iter(wp.clone()),
        |r| r.get(0),
    )?;
    if count > MAX_EXPORT_ROWS as i64 {
        return Err(AppError::BadRequest(format!(
            "导出的会员超过 {MAX_EXPORT_ROWS} 人，请按组织或状态筛选后分批导出"
        )));
    }
    let (rc, mut p) = match reveal {
        Some(r) => r.sql("m.org_id", Some("m.created_by")),
        None => ("0".to_string(), vec![]),
    };
    p.extend(wp);
    p.push(Value::Integer(MAX_EXPORT_ROWS as i64));
    let mut stmt = c.prepare(&format!(
        "SELECT m.id, m.member_no, m.real_name, m.gender, m.birth_date, m.phone_masked, m.id_masked, o.name, o.code,
            m.work_unit, m.job_title, m.status, m.joined_at, m.created_at, m.phone_enc, m.id_enc, ({rc}) AS can_reveal
         FROM members m LEFT JOIN orgs o ON o.id = m.org_id WHERE {wh} ORDER BY m.id LIMIT ?"
    ))?;
    let mut rows = stmt.query(params_from_iter(p))?;
    let mut out = Vec::with_capacity(count as usize);
    let mut revealed = 0;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let can_reveal: bool = r.get(16)?;
        let mut phone: Option<String> = r.get(5)?;
        let mut id_number: Option<String> = r.get(6)?;
        if can_reveal {
            let phone_enc: Option<String> = r.get(14)?;
            let id_enc: Option<String> = r.get(15)?;
            let open = |enc: Option<String>, aad: &str| {
                enc.map(|e| cipher.decrypt(&e, aad)).transpose().map_err(|e| {
                    // Logged without the value; the masked form stays in the sheet.
                    tracing::warn!(member_id = id, error = %e, "export: cannot decrypt member field");
                })
            };
            let mut opened = false;
            if let Ok(Some(v)) = open(phone_enc, AAD_PHONE) {
                phone = Some(v);
                opened = true;
            }
            if let Ok(Some(v)) = open(id_enc, AAD_ID) {
                id_number = Some(v);
                opened = true;
            }
            revealed += usize::from(opened);
        }
        // Without reveal only the birth year: the date would narrow the masked ID number down
        // to a handful of candidates (issue 17, item 2).
        let mut birth_date: Option<String> = r.get(4)?;
        if !can_reveal {
            birth_date = birth_date.map(|d| d.chars().take(4).collect());
        }
        out.push(Row {
            member_no: r.get(1)?,
            name: r.get(2)?,
            gender: r.get(3)?,
            birth_date,
            phone,
            id_number,
            org_name: r.get(7)?,
            org_code: r.get(8)?,
            work_unit: r.get(9)?,
            job_title: r.get(10)?,
            status: r.get(11)?,
            joined_at: r.get(12)?,
            created_at: r.get(13)?,
        });
    }
    Ok((out, revealed))
}

/// Build the export workbook; every text cell goes through [`neutralise`].
fn export_bytes(rows: &[Row]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    // Constant memory: rows are flushed to a temp file as they are written (100k rows stay small).
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name("会员名单")?;
    write_header(
        ws,
        &[
            ("会员编号", 16.0),
            ("姓名", 12.0),
            ("性别", 6.0),
            ("出生日期/年份", 12.0),
            ("手机号", 16.0),
            ("身份证号", 24.0),
            ("所属组织", 24.0),
            ("所属组织编码", 16.0),
            ("工作单位", 30.0),
            ("职务", 16.0),
            ("状态", 8.0),
            ("入会时间", 18.0),
            ("登记时间", 18.0),
        ],
    )?;
    for (i, m) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let cells = [
            m.member_no.clone(),
            m.name.clone(),
            m.gender.as_deref().map(|g| gender_label(g).to_string()),
            m.birth_date.clone(),
            m.phone.clone(),
            m.id_number.clone(),
            m.org_name.clone(),
            m.org_code.clone(),
            m.work_unit.clone(),
            m.job_title.clone(),
            Some(status_label(&m.status).to_string()),
            m.joined_at.map(local_time),
            Some(local_time(m.created_at)),
        ];
        for (col, v) in cells.iter().enumerate() {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                ws.write_string(row, col as u16, neutralise(v))?;
            }
        }
    }
    wb.save_to_buffer()
}

/// Export members in scope as xlsx: phone and ID masked and the birth date cut to the year
/// unless the exporter holds `member:reveal` for that member's org; audited with the count.
#[utoipa::path(get, path = "/api/v1/admin/members/export", tag = "会员管理", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, description = "会员名单（xlsx）", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "筛选条件无效或超过导出上限"), (status = 403)))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_EXPORT)?;
    let reveal = me.require(codes::MEMBER_REVEAL).ok();
    let query = MemberQuery {
        org_id: q.org_id,
        status: q.status.clone(),
        q: q.q.clone(),
        page: None,
        page_size: None,
    };
    // Fail on bad filters before touching data.
    filter(&scope, &query)?;
    // A 100k-row workbook is built in memory (a few hundred MB): one export at a time.
    let _turn = EXPORTS.acquire().await.map_err(AppError::internal)?;
    let cipher = st.cipher.clone();
    let may_reveal = reveal.is_some();
    let (rows, revealed_rows) = st
        .db
        .read(move |c| load_rows(c, cipher.as_ref(), &scope, reveal.as_ref(), &query))
        .await?;
    let count = rows.len();
    let bytes = tokio::task::spawn_blocking(move || export_bytes(&rows))
        .await
        .map_err(AppError::internal)?
        .map_err(xlsx_err)?;
    // The audit row is committed before any byte leaves; filter values may be personal
    // (a name search), so only whether a keyword was used is recorded.
    let actor = me.actor();
    let summary = json!({
        "count": count,
        "revealed": may_reveal,
        "revealed_rows": revealed_rows,
        "filters": {"org_id": q.org_id, "status": q.status, "keyword": q.q.as_deref().is_some_and(|k| !k.trim().is_empty())},
    });
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry {
                    action: "member.export",
                    target_type: "member",
                    target_id: None,
                    summary,
                    result: "success",
                },
            )?;
            Ok(())
        })
        .await?;
    let day = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"))
        .format("%Y%m%d")
        .to_string();
    xlsx_response(
        bytes,
        &format!("会员名单-{day}.xlsx"),
        &format!("members-{day}.xlsx"),
    )
}

/// Spreadsheet routes; the import upload gets a body limit that fits its 20 MB file.
pub fn routes() -> OpenApiRouter<AppState> {
    let file_max = crate::files::model::purpose("import").map_or(20 << 20, |p| p.max_bytes);
    let upload = OpenApiRouter::new()
        .routes(routes!(super::xlsx_import::start))
        // Room for the multipart framing around the file; the file itself is checked exactly.
        .layer(DefaultBodyLimit::max(file_max + (1 << 20)));
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(super::xlsx_import::status))
        .routes(routes!(super::import_jobs::list))
        .routes(routes!(super::import_jobs::errors))
        .routes(routes!(template))
        .routes(routes!(export))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised() {
        for bad in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=cmd|' /C calc'!A0",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        assert_eq!(neutralise("张三"), "张三");
        assert_eq!(neutralise("138****5678"), "138****5678");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(rfc5987("会员.xlsx"), "%E4%BC%9A%E5%91%98.xlsx");
        assert_eq!(rfc5987("a b\"c"), "a%20b%22c");
    }

    #[test]
    fn template_builds() {
        let b = template_bytes("ca").unwrap();
        assert_eq!(&b[..2], b"PK");
    }
}
