//! First start: the root org and the `admin` super account with a one-time password.

use super::org_repo;
use crate::app::AppState;
use crate::audit::{self, Actor, Entry};
use crate::auth::password;
use crate::error::Result;
use rusqlite::params;
use serde_json::json;

/// Create the root org and the bootstrap admin when the database has no account yet.
pub async fn ensure(state: &AppState) -> Result<()> {
    let has_admin: bool = state
        .db
        .read(|c| Ok(c.query_row("SELECT count(*) > 0 FROM admins", [], |r| r.get(0))?))
        .await?;
    if has_admin {
        return Ok(());
    }
    let (pw, generated) = match state.cfg.admin_password.clone().filter(|p| !p.is_empty()) {
        Some(p) => {
            password::check_policy("GONGHUI_ADMIN_PASSWORD", &p, "admin")
                .map_err(|_| crate::error::AppError::Internal("GONGHUI_ADMIN_PASSWORD 不符合密码策略（至少 8 位，含大写、小写、数字、符号中的三类）".into()))?;
            (p, false)
        }
        None => (password::generate(), true),
    };
    let hash = password::hash_async(pw.clone()).await?;
    let created = state
        .db
        .write(move |c| {
            // Re-check inside the writer: two starts racing must not create two admins.
            let exists: bool = c.query_row("SELECT count(*) > 0 FROM admins", [], |r| r.get(0))?;
            if exists {
                return Ok(false);
            }
            let root = match org_repo::root(c)? {
                Some(r) => r,
                None => org_repo::insert_root(c, "本级工会", "root")?,
            };
            let now = crate::time::now();
            c.execute(
                "INSERT INTO admins (username, name, org_id, password_hash, must_change_password, is_super, created_at, updated_at)
                 VALUES ('admin', '超级管理员', ?1, ?2, ?3, 1, ?4, ?4)",
                params![root.id, hash, generated, now],
            )?;
            let id = c.last_insert_rowid();
            audit::record(c, &Actor::system("bootstrap"), &Entry::success("system.bootstrap", "admin", id, json!({"username": "admin", "root_org_id": root.id, "generated_password": generated})))?;
            Ok(true)
        })
        .await?;
    if created {
        if generated {
            // Printed once to the console, deliberately not through the log pipeline.
            println!(
                "\n==== 首次启动 / first start ====\n管理员账号: admin\n初始密码:   {pw}\n请登录 /admin/ 后立即修改密码（首次登录会强制修改）。\n================================\n"
            );
        } else {
            println!("首次启动：已按 GONGHUI_ADMIN_PASSWORD 创建管理员账号 admin");
        }
    }
    Ok(())
}
