//! Bulk actions of the admin lists (批量审核): the ids of the ticked rows, checked, and the
//! per-row action run for each inside one write job, so the batch lands whole or not at all.
//! Each row goes through the same scope check and audit row as its single-row route.

use crate::error::{AppError, Result};
use serde::{Deserialize, Serialize};

/// Most rows one bulk request may touch (one page of a list at its largest page size).
pub const MAX_IDS: usize = 100;

/// The ticked rows.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkIds {
    /// Row ids, 1 to 100, no repeats.
    #[schema(min_items = 1, max_items = 100)]
    pub ids: Vec<i64>,
}

impl BulkIds {
    /// The ids, or a field error on `ids`.
    pub fn checked(self) -> Result<Vec<i64>> {
        if self.ids.is_empty() {
            return Err(AppError::field("ids", "请至少勾选一条记录"));
        }
        if self.ids.len() > MAX_IDS {
            return Err(AppError::field(
                "ids",
                format!("一次最多处理 {MAX_IDS} 条记录"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if !self.ids.iter().all(|i| seen.insert(*i)) {
            return Err(AppError::field("ids", "勾选的记录有重复"));
        }
        Ok(self.ids)
    }
}

/// What a bulk action did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkDone {
    /// Rows changed (all of them: the batch is all or nothing).
    pub count: usize,
}

/// Run `one` for every id; the first failure fails the batch, its message naming the row
/// (a row outside the scope stays a bare 404, as on the single-row route).
pub fn each<T>(ids: &[i64], what: &str, mut one: impl FnMut(i64) -> Result<T>) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(ids.len());
    for (n, id) in ids.iter().enumerate() {
        match one(*id) {
            Ok(v) => out.push(v),
            Err(AppError::Conflict { code, message }) => {
                return Err(AppError::Conflict {
                    code,
                    message: format!(
                        "第 {} 条{what}（编号 {id}）：{message}。本次批量操作未做任何修改",
                        n + 1
                    ),
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_a_failure_names_its_row() {
        assert!(BulkIds { ids: vec![] }.checked().is_err());
        assert!(BulkIds { ids: vec![1, 1] }.checked().is_err());
        assert!(
            BulkIds {
                ids: (0..101).collect()
            }
            .checked()
            .is_err()
        );
        assert_eq!(BulkIds { ids: vec![3, 1] }.checked().unwrap(), vec![3, 1]);
        let r = each(&[5, 6], "申请", |id| {
            if id == 6 {
                Err(AppError::conflict_code("already_reviewed", "该申请已审核"))
            } else {
                Ok(id)
            }
        });
        let Err(AppError::Conflict { message, .. }) = r else {
            panic!("no conflict")
        };
        assert!(message.contains("第 2 条申请（编号 6）"), "{message}");
    }
}
