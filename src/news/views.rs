//! View counting without a write per view: counts gather in memory and are added to SQLite
//! in one write every few seconds (a crash loses at most those few seconds of views).

use crate::db::Db;
use crate::error::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Pending view counts per article; cheap to clone.
#[derive(Clone, Default)]
pub struct Views(Arc<Mutex<HashMap<i64, i64>>>);

impl Views {
    /// Count one view.
    pub fn record(&self, id: i64) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(id).or_insert(0) += 1;
        }
    }

    /// Views of `id` not yet written.
    pub fn pending(&self, id: i64) -> i64 {
        self.0
            .lock()
            .map(|m| m.get(&id).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Write the pending counts in one job (they are put back if the write fails).
    pub async fn flush(&self, db: &Db) -> Result<usize> {
        let batch: Vec<(i64, i64)> = match self.0.lock() {
            Ok(mut m) => m.drain().collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        let b = batch.clone();
        let r = db
            .write(move |c| {
                let mut st =
                    c.prepare_cached("UPDATE news SET view_count = view_count + ?1 WHERE id = ?2")?;
                for (id, k) in &b {
                    st.execute([*k, *id])?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = r {
            if let Ok(mut m) = self.0.lock() {
                for (id, k) in batch {
                    *m.entry(id).or_insert(0) += k;
                }
            }
            return Err(e);
        }
        Ok(n)
    }
}
