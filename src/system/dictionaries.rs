//! 字典管理: every dictionary the lists show as tags — the built-in status dictionaries
//! (their codes are fixed by the code that writes them) and the stored ones (activity
//! categories, ticket categories, aid types) — with the tag colour of each item. An admin
//! of the whole tree may change a colour; every list then shows that item in it.

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, ok};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// A tag colour (Element Plus tag types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    /// Blue.
    Primary,
    /// Green.
    Success,
    /// Orange.
    Warning,
    /// Red.
    Danger,
    /// Grey.
    Info,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Primary => "primary",
            Color::Success => "success",
            Color::Warning => "warning",
            Color::Danger => "danger",
            Color::Info => "info",
        }
    }

    fn parse(s: &str) -> Option<Color> {
        [
            Color::Primary,
            Color::Success,
            Color::Warning,
            Color::Danger,
            Color::Info,
        ]
        .into_iter()
        .find(|c| c.code() == s)
    }
}

use Color::{Danger as D, Info as I, Primary as P, Success as S, Warning as W};

/// A built-in dictionary: code, name, items (code, name, default colour).
type Builtin = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, Color)],
);

/// The built-in dictionaries, in the order the page lists them.
pub const BUILTIN: &[Builtin] = &[
    (
        "member_status",
        "会员状态",
        &[
            ("registered", "已注册", I),
            ("pending", "待审核", W),
            ("active", "正式会员", S),
            ("rejected", "已驳回", D),
            ("left", "已退会", I),
        ],
    ),
    (
        "application_status",
        "入会申请状态",
        &[
            ("pending", "待审核", W),
            ("approved", "已通过", S),
            ("rejected", "已驳回", D),
            ("withdrawn", "已撤回", I),
        ],
    ),
    (
        "activity_status",
        "活动状态",
        &[
            ("draft", "草稿", I),
            ("published", "已发布", S),
            ("cancelled", "已取消", D),
            ("finished", "已结束", I),
        ],
    ),
    (
        "registration_status",
        "活动报名状态",
        &[
            ("pending", "待审核", W),
            ("approved", "已通过", S),
            ("rejected", "已驳回", D),
            ("cancelled", "已取消", I),
        ],
    ),
    (
        "news_status",
        "资讯状态",
        &[
            ("draft", "草稿", I),
            ("scheduled", "定时发布", W),
            ("published", "已发布", S),
            ("withdrawn", "已撤回", D),
        ],
    ),
    (
        "ticket_status",
        "工单状态",
        &[
            ("open", "办理中", W),
            ("resolved", "已办结", S),
            ("closed", "已关闭", I),
        ],
    ),
    (
        "aid_status",
        "帮扶申请状态",
        &[
            ("pending", "审批中", W),
            ("returned", "退回补充", I),
            ("approved", "已通过", S),
            ("rejected", "未通过", D),
            ("cancelled", "已撤销", I),
        ],
    ),
    (
        "benefit_status",
        "权益状态",
        &[
            ("draft", "草稿", I),
            ("published", "领取中", S),
            ("closed", "已结束", I),
        ],
    ),
    (
        "claim_status",
        "权益领取状态",
        &[("claimed", "未核销", W), ("redeemed", "已核销", S)],
    ),
    (
        "order_status",
        "商城订单状态",
        &[
            ("pending", "待提货", W),
            ("fulfilled", "已提货", S),
            ("cancelled", "已取消", I),
        ],
    ),
    (
        "moderation_status",
        "内容审核状态",
        &[
            ("pending", "待审核", W),
            ("approved", "已通过", S),
            ("rejected", "已驳回", D),
        ],
    ),
    (
        "sensitive_level",
        "敏感词级别",
        &[("block", "拦截", D), ("review", "待审", W)],
    ),
    (
        "import_status",
        "导入任务状态",
        &[
            ("running", "导入中", W),
            ("done", "已完成", S),
            ("failed", "失败", D),
        ],
    ),
    (
        "outbox_status",
        "订阅消息发送状态",
        &[
            ("pending", "待发送", W),
            ("sent", "已发送", S),
            ("refused", "用户未订阅", I),
            ("failed", "失败", D),
            ("skipped", "已跳过", I),
        ],
    ),
    (
        "backup_status",
        "备份状态",
        &[
            ("running", "进行中", W),
            ("ok", "成功", S),
            ("failed", "失败", D),
        ],
    ),
    (
        "org_status",
        "组织状态",
        &[("active", "正常", S), ("disabled", "停用", I)],
    ),
    (
        "org_kind",
        "组织类型",
        &[
            ("prefecture", "州（市）总工会", P),
            ("county", "县（市）总工会", P),
            ("grassroots", "基层工会", I),
            ("other", "其他", I),
        ],
    ),
    (
        "data_scope",
        "数据范围",
        &[
            ("all", "全部数据", P),
            ("org_and_below", "本级及下级", P),
            ("org", "仅本级", I),
            ("custom", "自定义组织", I),
            ("self", "仅本人", I),
        ],
    ),
];

/// The stored dictionaries: code, name, the query giving `(code, name)` in display order,
/// and the page where its items are added.
const STORED: &[(&str, &str, &str, &str)] = &[
    (
        "activity_category",
        "活动类别",
        "SELECT code, name FROM dictionary_items WHERE dict = 'activity_category' ORDER BY sort, code LIMIT 500",
        "本页",
    ),
    (
        "ticket_category",
        "工单类别",
        "SELECT code, name FROM ticket_categories ORDER BY sort, id LIMIT 500",
        "诉求工单",
    ),
    (
        "aid_type",
        "帮扶类型",
        "SELECT code, name FROM aid_types ORDER BY sort, id LIMIT 500",
        "帮扶服务",
    ),
];

/// One item with its colour.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DictItem {
    /// Stored code.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// Colour the lists show it in.
    pub color: Color,
    /// Its colour when nobody changed it.
    pub default_color: Color,
}

/// One dictionary.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dictionary {
    /// Code, e.g. `member_status`.
    pub code: &'static str,
    /// Chinese name.
    pub name: &'static str,
    /// True for the built-in dictionaries (items fixed); false for stored ones.
    pub builtin: bool,
    /// Where the items of a stored dictionary are added (a page name); null for built-in.
    pub managed_on: Option<&'static str>,
    /// Items in display order (at most 500).
    pub items: Vec<DictItem>,
}

fn colors(c: &Connection) -> Result<HashMap<(String, String), Color>> {
    let mut st = c.prepare_cached("SELECT dict, code, color FROM dictionary_colors")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (d, k, v) = row?;
        if let Some(col) = Color::parse(&v) {
            out.insert((d, k), col);
        }
    }
    Ok(out)
}

/// Every dictionary with its items and colours.
pub fn all(c: &Connection) -> Result<Vec<Dictionary>> {
    let set = colors(c)?;
    let color =
        |d: &str, k: &str, def: Color| *set.get(&(d.to_string(), k.to_string())).unwrap_or(&def);
    let mut out = Vec::new();
    for (code, name, sql, page) in STORED {
        let mut st = c.prepare_cached(sql)?;
        let items = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(|(k, n)| DictItem {
                color: color(code, &k, P),
                default_color: P,
                code: k,
                name: n,
            })
            .collect();
        out.push(Dictionary {
            code,
            name,
            builtin: false,
            managed_on: Some(page),
            items,
        });
    }
    // The causes of hardship live beside the aid form that validates them; listed here so
    // 字典管理 shows every dictionary and the admin pages read them from one place.
    out.push(Dictionary {
        code: "aid_reason",
        name: "致困原因",
        builtin: true,
        managed_on: None,
        items: crate::aid::model::REASONS
            .iter()
            .map(|(k, n)| DictItem {
                code: (*k).into(),
                name: (*n).into(),
                color: color("aid_reason", k, I),
                default_color: I,
            })
            .collect(),
    });
    for (code, name, items) in BUILTIN {
        out.push(Dictionary {
            code,
            name,
            builtin: true,
            managed_on: None,
            items: items
                .iter()
                .map(|(k, n, def)| DictItem {
                    code: (*k).into(),
                    name: (*n).into(),
                    color: color(code, k, *def),
                    default_color: *def,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Every dictionary and the colour of each item (any signed-in staff account: the lists of
/// every page use it). A bounded catalogue, not paginated: each dictionary has at most 500 items.
#[utoipa::path(get, path = "/api/v1/admin/dictionaries", tag = "系统设置", security(("bearer" = [])),
    responses((status = 200, body = Vec<Dictionary>), (status = 401)))]
pub async fn list(State(st): State<AppState>, _me: AdminAuth) -> Result<Response> {
    Ok(ok(st.db.read(all).await?))
}

/// A new tag colour.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColorIn {
    /// The colour.
    pub color: Color,
}

/// Set the tag colour of one dictionary item (`setting:write` over the whole org tree);
/// choosing the default colour again removes the change. 404 for an unknown dictionary or item.
#[utoipa::path(put, path = "/api/v1/admin/dictionaries/{dict}/{code}/color", tag = "系统设置", security(("bearer" = [])),
    request_body = ColorIn,
    params(("dict" = String, Path, description = "字典编码，如 member_status"), ("code" = String, Path, description = "字典项编码")),
    responses((status = 200, body = DictItem), (status = 400), (status = 403), (status = 404)))]
pub async fn set_color(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath((dict, code)): AppPath<(String, String)>,
    AppJson(req): AppJson<ColorIn>,
) -> Result<Response> {
    let scope = me.require(codes::SETTING_WRITE)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "字典标签颜色")?;
            let d = all(c)?
                .into_iter()
                .find(|d| d.code == dict)
                .ok_or(AppError::NotFound)?;
            let item = d
                .items
                .into_iter()
                .find(|i| i.code == code)
                .ok_or(AppError::NotFound)?;
            if req.color == item.default_color {
                c.execute(
                    "DELETE FROM dictionary_colors WHERE dict = ?1 AND code = ?2",
                    params![dict, code],
                )?;
            } else {
                c.execute(
                    "INSERT INTO dictionary_colors (dict, code, color, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (dict, code) DO UPDATE SET color = excluded.color, updated_at = excluded.updated_at",
                    params![dict, code, req.color.code(), crate::time::now()],
                )?;
            }
            if req.color != item.color {
                audit::record(
                    c,
                    &actor,
                    &Entry::success(
                        "dictionary.update",
                        "dictionary",
                        format!("{dict}:{code}"),
                        json!({"name": item.name, "from": item.color.code(), "to": req.color.code()}),
                    ),
                )?;
            }
            Ok(DictItem {
                color: req.color,
                ..item
            })
        })
        .await?;
    Ok(ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_colours_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for (code, _, items) in BUILTIN {
            assert!(seen.insert(*code), "{code} twice");
            let mut keys = std::collections::HashSet::new();
            assert!(items.iter().all(|(k, _, _)| keys.insert(*k)), "{code}");
        }
        for (code, ..) in STORED {
            assert!(seen.insert(*code), "{code} twice");
        }
        for c in [P, S, W, D, I] {
            assert_eq!(Color::parse(c.code()), Some(c));
        }
    }
}
