//! Data scope: what part of the org tree an account may touch with one permission.
//!
//! Roles are OR-ed: the scope for a permission is the union of the scopes of every role that
//! holds it. The same value answers both questions a handler asks: "which rows may I list"
//! (`sql`) and "may I touch this row / create here" (`contains_org`, `covers_new`).

use crate::error::AppError;
use rusqlite::types::Value;

/// The data scope of one account for one permission.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every org.
    All,
    /// A union of subtrees, single orgs and the account's own rows.
    Limited {
        /// Org paths whose whole subtree is in scope (`org_and_below`).
        subtrees: Vec<String>,
        /// Single orgs in scope (`org`, `custom`).
        orgs: Vec<i64>,
        /// Rows owned by this account (`self`).
        owner: Option<i64>,
    },
}

/// Kinds of data scope a role can have.
pub const DATA_SCOPES: &[&str] = &["all", "org_and_below", "org", "custom", "self"];

impl Scope {
    /// An empty limited scope (matches nothing).
    pub fn empty() -> Scope {
        Scope::Limited {
            subtrees: vec![],
            orgs: vec![],
            owner: None,
        }
    }

    /// Add one role's contribution.
    pub fn add(
        &mut self,
        data_scope: &str,
        own_org_id: i64,
        own_org_path: &str,
        custom: &[i64],
        account_id: i64,
    ) {
        let Scope::Limited {
            subtrees,
            orgs,
            owner,
        } = self
        else {
            return;
        };
        match data_scope {
            "all" => *self = Scope::All,
            "org_and_below" => subtrees.push(own_org_path.to_string()),
            "org" => orgs.push(own_org_id),
            "custom" => orgs.extend_from_slice(custom),
            "self" => *owner = Some(account_id),
            // Unknown scope kinds grant nothing (deny by default).
            _ => {}
        }
    }

    /// SQL condition restricting rows to this scope, with its parameters.
    /// `org_col` is the row's org id column; `owner_col` the column holding the creating
    /// account (for `self` scope), when the table has one; it may be an SQL expression, e.g.
    /// to match the id only on rows written by staff where members share the id column.
    pub fn sql(&self, org_col: &str, owner_col: Option<&str>) -> (String, Vec<Value>) {
        match self {
            Scope::All => ("1=1".into(), vec![]),
            Scope::Limited {
                subtrees,
                orgs,
                owner,
            } => {
                let mut parts = Vec::new();
                let mut params = Vec::new();
                for path in subtrees {
                    parts.push(format!(
                        "{org_col} IN (SELECT id FROM orgs WHERE path GLOB ?)"
                    ));
                    params.push(Value::Text(format!("{path}*")));
                }
                if !orgs.is_empty() {
                    let qs = vec!["?"; orgs.len()].join(",");
                    parts.push(format!("{org_col} IN ({qs})"));
                    params.extend(orgs.iter().map(|o| Value::Integer(*o)));
                }
                if let (Some(id), Some(col)) = (owner, owner_col) {
                    parts.push(format!("{col} = ?"));
                    params.push(Value::Integer(*id));
                }
                if parts.is_empty() {
                    return ("0=1".into(), vec![]);
                }
                (format!("({})", parts.join(" OR ")), params)
            }
        }
    }

    /// True when an existing org (id and path) is in scope.
    pub fn contains_org(&self, org_id: i64, org_path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { subtrees, orgs, .. } => {
                orgs.contains(&org_id) || subtrees.iter().any(|p| org_path.starts_with(p.as_str()))
            }
        }
    }

    /// True when the whole subtree at `org_path` is in scope (needed to grant `org_and_below`
    /// or to place a new org there).
    pub fn covers_subtree(&self, org_path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { subtrees, .. } => {
                subtrees.iter().any(|p| org_path.starts_with(p.as_str()))
            }
        }
    }

    /// 403 unless this scope covers the whole org tree (the root org's subtree): the rule for
    /// changing what every org shares (news categories, dictionaries, installation settings),
    /// which a county's staff must not change for their neighbours. `what` names the thing
    /// in the Chinese message, e.g. `新闻栏目`.
    pub fn require_whole_tree(&self, c: &rusqlite::Connection, what: &str) -> Result<(), AppError> {
        if self.covers_whole_tree(c)? {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "{what}为全系统共用，只有最上级工会的管理员可以维护"
            )))
        }
    }

    /// True when this scope covers the root org's subtree: the test [`Scope::require_whole_tree`]
    /// applies, also used to tell the admin UI which shared settings it may offer.
    pub fn covers_whole_tree(&self, c: &rusqlite::Connection) -> Result<bool, AppError> {
        Ok(self.covers_subtree(&root_path(c)?))
    }

    /// True for [`Scope::All`].
    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }
}

/// Path of the root org (the top-level union), whose subtree is the whole tree.
pub fn root_path(c: &rusqlite::Connection) -> Result<String, AppError> {
    Ok(
        c.prepare_cached("SELECT path FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1")?
            .query_row([], |r| r.get(0))?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ored_and_all_wins() {
        let mut s = Scope::empty();
        s.add("org", 5, "/1/5/", &[], 9);
        s.add("custom", 5, "/1/5/", &[7, 8], 9);
        assert!(s.contains_org(7, "/1/7/"));
        assert!(!s.contains_org(6, "/1/5/6/"));
        s.add("org_and_below", 5, "/1/5/", &[], 9);
        assert!(s.contains_org(6, "/1/5/6/"));
        assert!(
            !s.contains_org(50, "/1/50/"),
            "path prefix must end at a separator"
        );
        s.add("all", 5, "/1/5/", &[], 9);
        assert_eq!(s, Scope::All);
    }

    #[test]
    fn empty_scope_matches_nothing() {
        let (sql, p) = Scope::empty().sql("x.org_id", Some("x.created_by"));
        assert_eq!(sql, "0=1");
        assert!(p.is_empty());
        let mut s = Scope::empty();
        s.add("bogus", 1, "/1/", &[], 1);
        assert_eq!(s.sql("x", None).0, "0=1");
    }

    #[test]
    fn sql_filters_real_rows() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE orgs(id INTEGER PRIMARY KEY, path TEXT);
             INSERT INTO orgs VALUES (1,'/1/'),(2,'/1/2/'),(3,'/1/2/3/'),(4,'/1/4/'),(22,'/1/22/');
             CREATE TABLE t(id INTEGER PRIMARY KEY, org_id INTEGER, created_by INTEGER);
             INSERT INTO t VALUES (1,1,0),(2,2,0),(3,3,0),(4,4,0),(5,22,0),(6,4,9);",
        )
        .unwrap();
        let mut s = Scope::empty();
        s.add("org_and_below", 2, "/1/2/", &[], 9);
        s.add("self", 2, "/1/2/", &[], 9);
        let (cond, params) = s.sql("org_id", Some("created_by"));
        let mut st = c
            .prepare(&format!("SELECT id FROM t WHERE {cond} ORDER BY id"))
            .unwrap();
        let ids: Vec<i64> = st
            .query_map(rusqlite::params_from_iter(params), |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(ids, vec![2, 3, 6]);
    }
}
