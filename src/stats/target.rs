//! The org a statistics request counts, checked against the caller's scope, and the SQL
//! pieces every topic shares: "rows of this subtree within scope" and the drill-down bucket.

use crate::auth::Scope;
use crate::error::{AppError, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

/// A resolved org with the caller's scope.
#[derive(Debug, Clone)]
pub struct Target {
    /// Org id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Materialised path.
    pub path: String,
    /// Parent, if any.
    pub parent_id: Option<i64>,
    /// The caller's scope for `stats:read`.
    pub scope: Scope,
}

impl Target {
    /// Load org `id` when it lies in `scope`; 404 otherwise (outside the scope is the same
    /// as missing).
    pub fn load(c: &Connection, scope: Scope, id: i64) -> Result<Target> {
        let row: Option<(String, String, Option<i64>)> = c
            .prepare_cached("SELECT name, path, parent_id FROM orgs WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((name, path, parent_id)) = row else {
            return Err(AppError::NotFound);
        };
        if !scope.contains_org(id, &path) {
            return Err(AppError::NotFound);
        }
        Ok(Target {
            id,
            name,
            path,
            parent_id,
            scope,
        })
    }

    /// The parent when it is in scope too (the page's 返回上级).
    pub fn parent_in_scope(&self, c: &Connection) -> Result<Option<i64>> {
        let Some(p) = self.parent_id else {
            return Ok(None);
        };
        let path: Option<String> = c
            .prepare_cached("SELECT path FROM orgs WHERE id = ?1")?
            .query_row([p], |r| r.get(0))
            .optional()?;
        Ok(path
            .filter(|path| self.scope.contains_org(p, path))
            .map(|_| p))
    }

    /// Condition (with its parameters) keeping rows whose org, joined as `o` (an `orgs` row)
    /// with id column `org_col`, lies in this subtree and in the caller's scope. Records of a
    /// `self`-only scope are not counted: statistics are by org.
    pub fn within(&self, org_col: &str) -> (String, Vec<Value>) {
        let (scope_cond, mut p) = self.scope.sql(org_col, None);
        p.insert(0, Value::Text(format!("{}*", self.path)));
        (format!("o.path GLOB ? AND {scope_cond}"), p)
    }

    /// SQL expression: 0 for the org itself, else the id of the direct child whose subtree
    /// holds `o` (read off the path, so no join per level). Only digits go into the SQL.
    pub fn child_bucket(&self) -> String {
        let plen = self.path.len();
        let start = plen + 1;
        format!(
            "CASE WHEN length(o.path) = {plen} THEN 0 ELSE CAST(substr(o.path, {start}, instr(substr(o.path, {start}), '/') - 1) AS INTEGER) END"
        )
    }

    /// The direct children to show as drill-down rows: those in scope (others only when
    /// they hold counted rows, i.e. a `custom` scope below them), in display order.
    pub fn children(&self, c: &Connection) -> Result<Vec<(i64, String, bool)>> {
        let mut st = c.prepare_cached(
            "SELECT id, name, path FROM orgs WHERE parent_id = ?1 ORDER BY sort, id",
        )?;
        let v = st
            .query_map([self.id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v.into_iter()
            .map(|(id, name, path)| {
                let visible = self.scope.contains_org(id, &path);
                (id, name, visible)
            })
            .collect())
    }
}
