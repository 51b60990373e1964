//! Registration export (xlsx): one column per form field, ID-number and phone answers masked
//! unless the caller holds `member:reveal` for the activity's org and asks for `?reveal=true`;
//! every cell neutralised against formula injection; audited before any byte leaves.

use super::form::{FieldDef, reveal_sealed};
use super::model::local_time;
use super::repo::load_scoped;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppPath, AppQuery, Result};
use crate::members::xlsx::{neutralise, xlsx_response};
use axum::extract::State;
use axum::response::Response;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Most registrations in one export.
const MAX_ROWS: i64 = 100_000;

/// Export options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this registration status.
    pub status: Option<String>,
    /// Clear ID-number and phone answers (needs `member:reveal`).
    pub reveal: Option<bool>,
}

struct Row {
    name: String,
    phone: Option<String>,
    org: Option<String>,
    status: String,
    created_at: i64,
    checked_in_at: Option<i64>,
    rating: Option<i64>,
    answers: Map<String, Value>,
}

fn status_label(s: &str) -> &'static str {
    match s {
        "pending" => "待审核",
        "approved" => "已通过",
        "rejected" => "未通过",
        "cancelled" => "已取消",
        _ => "",
    }
}

fn answer_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join("、"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn build(fields: &[FieldDef], rows: &[Row]) -> std::result::Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name("报名名单")?;
    let bold = Format::new().set_bold();
    let mut headers: Vec<String> = [
        "序号",
        "姓名",
        "手机号",
        "所属组织",
        "报名状态",
        "报名时间",
        "签到时间",
        "评分",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    headers.extend(fields.iter().map(|f| f.label.clone()));
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, neutralise(h), &bold)?;
        ws.set_column_width(i as u16, 16)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let mut cells = vec![
            Some((i + 1).to_string()),
            Some(r.name.clone()),
            r.phone.clone(),
            r.org.clone(),
            Some(status_label(&r.status).to_string()),
            Some(local_time(r.created_at)),
            r.checked_in_at.map(local_time),
            r.rating.map(|x| x.to_string()),
        ];
        cells.extend(
            fields
                .iter()
                .map(|f| r.answers.get(&f.key).map(answer_text)),
        );
        for (col, v) in cells.iter().enumerate() {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                ws.write_string(row, col as u16, neutralise(v))?;
            }
        }
    }
    wb.save_to_buffer()
}

/// Download the registrations of an activity in scope as xlsx.
#[utoipa::path(get, path = "/api/v1/admin/activities/{id}/registrations/export", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID"), ExportQuery),
    responses((status = 200, description = "报名名单（xlsx）", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400), (status = 403), (status = 404)))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_EXPORT)?;
    let reveal_scope = if q.reveal == Some(true) {
        Some(me.require(codes::MEMBER_REVEAL)?)
    } else {
        None
    };
    if let Some(s) = q.status.as_deref()
        && !["pending", "approved", "rejected", "cancelled"].contains(&s)
    {
        return Err(AppError::field(
            "status",
            "状态只能是 pending、approved、rejected 或 cancelled",
        ));
    }
    let cipher = st.cipher.clone();
    let status = q.status.clone();
    let (title, fields, rows, revealed) = st
        .db
        .read(move |c| {
            let a = load_scoped(c, &scope, id)?;
            let reveal = match &reveal_scope {
                Some(s) if s.contains_org(a.view.org_id, &a.org_path) => true,
                Some(_) => return Err(AppError::Forbidden("没有查看此活动报名人完整身份证号和手机号的权限".into())),
                None => false,
            };
            let fields = match a.view.form_template_id {
                Some(t) => super::templates::fields_of(c, t)?,
                None => vec![],
            };
            let mut st = c.prepare(
                "SELECT coalesce(m.real_name, m.nickname), m.phone_masked, o.name, r.status, r.created_at, r.checked_in_at, r.rating,
                        r.answers, r.answers_enc
                 FROM activity_registrations r JOIN members m ON m.id = r.member_id LEFT JOIN orgs o ON o.id = r.org_id
                 WHERE r.activity_id = ?1 AND (?2 IS NULL OR r.status = ?2) ORDER BY r.id LIMIT ?3",
            )?;
            let mut rs = st.query(rusqlite::params![id, status, MAX_ROWS])?;
            let mut rows = Vec::new();
            let mut revealed = 0usize;
            while let Some(r) = rs.next()? {
                let answers: String = r.get(7)?;
                let mut answers: Map<String, Value> = serde_json::from_str(&answers).unwrap_or_default();
                if reveal {
                    let enc: String = r.get(8)?;
                    let enc: Map<String, Value> = serde_json::from_str(&enc).unwrap_or_default();
                    revealed += reveal_sealed(&fields, &mut answers, &enc, cipher.as_ref());
                }
                rows.push(Row {
                    name: r.get(0)?,
                    phone: r.get(1)?,
                    org: r.get(2)?,
                    status: r.get(3)?,
                    created_at: r.get(4)?,
                    checked_in_at: r.get(5)?,
                    rating: r.get(6)?,
                    answers,
                });
            }
            Ok((a.view.title, fields, rows, revealed))
        })
        .await?;
    let count = rows.len();
    let bytes = tokio::task::spawn_blocking(move || build(&fields, &rows))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::internal(format!("xlsx: {e}")))?;
    let actor = me.actor();
    let summary = json!({"count": count, "revealed": q.reveal == Some(true), "revealed_answers": revealed, "status": q.status});
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry::success("activity.export", "activity", id, summary),
            )?;
            Ok(())
        })
        .await?;
    let safe: String = title
        .chars()
        .filter(|c| !"\\/:*?\"<>|".contains(*c))
        .take(40)
        .collect();
    xlsx_response(
        bytes,
        &format!("{safe}-报名名单.xlsx"),
        &format!("activity-{id}-registrations.xlsx"),
    )
}
