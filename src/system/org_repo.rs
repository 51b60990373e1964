//! SQL for the org tree. Paths are materialised (`/1/5/12/`) so a subtree is one indexed GLOB.

use crate::error::{AppError, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Org kinds.
pub const KINDS: &[&str] = &["prefecture", "county", "grassroots", "other"];

/// One org row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Org {
    /// Id.
    pub id: i64,
    /// Parent id (`null` for the root).
    pub parent_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Unique code.
    pub code: String,
    /// `prefecture`, `county`, `grassroots` or `other`.
    pub kind: String,
    /// `active` or `disabled` (停用: no new child orgs, not offered for new members/accounts).
    #[schema(value_type = String, pattern = "^(active|disabled)$")]
    pub status: String,
    /// Order among its siblings (smaller first).
    pub sort: i64,
    /// Materialised path.
    #[serde(skip)]
    pub path: String,
}

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<Org> {
    Ok(Org {
        id: r.get(0)?,
        parent_id: r.get(1)?,
        name: r.get(2)?,
        code: r.get(3)?,
        kind: r.get(4)?,
        path: r.get(5)?,
        status: r.get(6)?,
        sort: r.get(7)?,
    })
}

const COLS: &str = "id, parent_id, name, code, kind, path, status, sort";

/// Load one org.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Org>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLS} FROM orgs WHERE id = ?1"))?
        .query_row([id], map)
        .optional()?)
}

/// Every org matching an SQL condition on `orgs` (from a scope), ordered for tree building.
pub fn list_where(
    conn: &Connection,
    cond: &str,
    params: Vec<rusqlite::types::Value>,
) -> Result<Vec<Org>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM orgs WHERE {cond} ORDER BY sort, id"
    ))?;
    let rows = st.query_map(rusqlite::params_from_iter(params), map)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Insert a child org and set its path; returns the new org.
pub fn insert(conn: &Connection, parent: &Org, name: &str, code: &str, kind: &str) -> Result<Org> {
    let now = crate::time::now();
    // The path needs the new id: insert with a unique placeholder, then set it.
    let placeholder = format!("tmp:{}", crate::crypto::random_token(9));
    conn.execute(
        "INSERT INTO orgs (parent_id, name, code, kind, path, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![parent.id, name, code, kind, placeholder, now],
    )
    .map_err(unique_code)?;
    let id = conn.last_insert_rowid();
    let path = format!("{}{}/", parent.path, id);
    conn.execute("UPDATE orgs SET path = ?1 WHERE id = ?2", params![path, id])?;
    Ok(Org {
        id,
        parent_id: Some(parent.id),
        name: name.into(),
        code: code.into(),
        kind: kind.into(),
        path,
        status: "active".into(),
        sort: 0,
    })
}

/// Insert the root org (first start only).
pub fn insert_root(conn: &Connection, name: &str, code: &str) -> Result<Org> {
    let now = crate::time::now();
    conn.execute(
        "INSERT INTO orgs (parent_id, name, code, kind, path, created_at, updated_at) VALUES (NULL, ?1, ?2, 'prefecture', 'tmp:root', ?3, ?3)",
        params![name, code, now],
    )?;
    let id = conn.last_insert_rowid();
    let path = format!("/{id}/");
    conn.execute("UPDATE orgs SET path = ?1 WHERE id = ?2", params![path, id])?;
    Ok(Org {
        id,
        parent_id: None,
        name: name.into(),
        code: code.into(),
        kind: "prefecture".into(),
        path,
        status: "active".into(),
        sort: 0,
    })
}

/// Map a UNIQUE violation on `code` to a field error.
pub fn unique_code(e: rusqlite::Error) -> AppError {
    if crate::error::is_unique_violation(&e) {
        AppError::field("code", "组织编码已存在")
    } else {
        e.into()
    }
}

/// Rename / recode an org, set its status and sort order.
pub fn update_fields(
    conn: &Connection,
    id: i64,
    name: &str,
    code: &str,
    status: &str,
    sort: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE orgs SET name = ?1, code = ?2, status = ?3, sort = ?4, updated_at = ?5 WHERE id = ?6",
        params![name, code, status, sort, crate::time::now(), id],
    )
    .map_err(unique_code)?;
    Ok(())
}

/// Move a subtree under a new parent, rewriting every descendant's path in one statement.
pub fn move_subtree(conn: &Connection, org: &Org, new_parent: &Org) -> Result<String> {
    let new_path = format!("{}{}/", new_parent.path, org.id);
    conn.execute(
        "UPDATE orgs SET path = ?1 || substr(path, length(?2) + 1) WHERE path GLOB ?2 || '*'",
        params![new_path, org.path],
    )?;
    conn.execute(
        "UPDATE orgs SET parent_id = ?1, updated_at = ?2 WHERE id = ?3",
        params![new_parent.id, crate::time::now(), org.id],
    )?;
    Ok(new_path)
}

/// What still hangs on an org (children, accounts, members…), as Chinese phrases; empty = deletable.
pub fn dependents(conn: &Connection, id: i64) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let checks: &[(&str, &str)] = &[
        ("SELECT count(*) FROM orgs WHERE parent_id = ?1", "下级组织"),
        (
            "SELECT count(*) FROM admins WHERE org_id = ?1",
            "管理员账号",
        ),
        (
            "SELECT count(*) FROM role_orgs WHERE org_id = ?1",
            "角色的自定义数据范围",
        ),
        (
            "SELECT count(*) FROM members WHERE org_id = ?1 AND status <> 'deleted'",
            "会员或入会申请人",
        ),
        (
            "SELECT count(*) FROM membership_applications WHERE org_id = ?1 AND status = 'pending'",
            "待审核的入会申请",
        ),
        ("SELECT count(*) FROM activities WHERE org_id = ?1", "活动"),
        (
            "SELECT count(*) FROM form_templates WHERE org_id = ?1",
            "报名表单模板",
        ),
        (
            "SELECT count(*) FROM news WHERE org_id = ?1 AND deleted_at IS NULL",
            "资讯文章",
        ),
        (
            "SELECT count(*) FROM messages WHERE org_id = ?1",
            "站内消息",
        ),
        (
            "SELECT count(*) FROM message_orgs WHERE org_id = ?1",
            "以本组织为发送范围的消息",
        ),
    ];
    for (sql, what) in checks {
        let n: i64 = conn.query_row(sql, [id], |r| r.get(0))?;
        if n > 0 {
            out.push(format!("{n} 个{what}"));
        }
    }
    Ok(out)
}

/// Delete an org that has no dependents.
pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    // Files keep their rows for history; detach them from the org first.
    conn.execute("UPDATE files SET org_id = NULL WHERE org_id = ?1", [id])?;
    // Deleted articles are gone from the index already; drop their rows with the org.
    conn.execute(
        "DELETE FROM news WHERE org_id = ?1 AND deleted_at IS NOT NULL",
        [id],
    )?;
    // Past registrations keep the member but no longer name the deleted org.
    conn.execute(
        "UPDATE activity_registrations SET org_id = NULL WHERE org_id = ?1",
        [id],
    )?;
    // Roles created by an account of this org pass to the parent org (they stay valid).
    conn.execute(
        "UPDATE roles SET org_id = (SELECT parent_id FROM orgs WHERE id = ?1) WHERE org_id = ?1",
        [id],
    )?;
    conn.execute("DELETE FROM orgs WHERE id = ?1", [id])?;
    Ok(())
}

/// The root org.
pub fn root(conn: &Connection) -> Result<Option<Org>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1"
        ))?
        .query_row([], map)
        .optional()?)
}
