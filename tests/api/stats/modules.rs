//! Aid and ticket statistics on known data; each needs its module's read permission besides
//! `stats:read`.

use super::*;
use reqwest::StatusCode;
use serde_json::json;

/// In A1: three submitted 困难帮扶 applications (approved with two disbursements of 500 and
/// 250.50 元, rejected, pending) and a draft; in B one approved. Tickets in A1: one answered
/// in 2 h and rated 4, one open past its deadline, one held for moderation; one in B.
async fn seed(w: &World) {
    let (a1, b) = (w.grass_a1, w.county_b);
    let m = insert_members(
        &w.app,
        (0..5)
            .map(|_| (Some(a1), "active", None, None, None))
            .collect(),
    )
    .await;
    w.app
        .state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            let ty: i64 = c.query_row("SELECT id FROM aid_types WHERE code = 'hardship'", [], |r| r.get(0))?;
            let app = |member: i64, org: i64, status: &str, submitted: Option<i64>| -> rusqlite::Result<i64> {
                c.execute(
                    "INSERT INTO aid_applications (type_id, member_id, org_id, status, current_step, reason_code,
                        household_size, submitted_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 1, 'illness', 3, ?5, ?6, ?6)",
                    rusqlite::params![ty, member, org, status, submitted, now],
                )?;
                Ok(c.last_insert_rowid())
            };
            let approved = app(m[0], a1, "approved", Some(now))?;
            app(m[1], a1, "rejected", Some(now))?;
            app(m[2], a1, "pending", Some(now))?;
            app(m[3], a1, "draft", None)?;
            app(m[4], b, "approved", Some(now))?;
            for cents in [50_000, 25_050] {
                c.execute(
                    "INSERT INTO aid_disbursements (application_id, amount_cents, given_on, form, created_at)
                     VALUES (?1, ?2, '2026-12-01', 'cash', ?3)",
                    rusqlite::params![approved, cents, now],
                )?;
            }
            let cat: i64 = c.query_row("SELECT min(id) FROM ticket_categories", [], |r| r.get(0))?;
            let ticket = |member: i64, org: i64, status: &str, held: i64, deadline: i64,
                          reply: Option<i64>, rating: Option<i64>| {
                c.execute(
                    "INSERT INTO tickets (member_id, org_id, origin_org_id, category_id, title, content, status, held,
                        deadline_at, answered, first_reply_at, rating, created_at, updated_at)
                     VALUES (?1, ?2, ?2, ?3, '诉求', '内容', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                    rusqlite::params![member, org, cat, status, held, deadline, reply.is_some(), reply,
                        rating, now - 7200],
                )
            };
            ticket(m[0], a1, "closed", 0, now + 3600, Some(now), Some(4))?;
            ticket(m[1], a1, "open", 0, now - 60, None, None)?;
            ticket(m[2], a1, "open", 1, now - 60, None, None)?;
            ticket(m[4], b, "open", 0, now + 3600, None, None)?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn aid_and_tickets_on_known_data() {
    let w = world().await;
    seed(&w).await;
    let r = w.app.get("/api/v1/admin/stats/aid", &w.ta).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows = r.body["data"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", r.body);
    assert_eq!(rows[0]["label"], "困难帮扶", "{}", r.body);
    let v = row(&r.body, rows[0]["key"].as_str().unwrap());
    // Applications, approved, rejected, in progress, disbursements, amount (元).
    assert_eq!(v, vec![3.0, 1.0, 1.0, 1.0, 2.0, 750.5]);
    // The root sees county B's too, by org.
    let r = w
        .app
        .get("/api/v1/admin/stats/aid?group_by=org", &w.admin)
        .await;
    assert_eq!(row(&r.body, &w.county_a.to_string())[0], 3.0);
    assert_eq!(row(&r.body, &w.county_b.to_string())[0], 1.0);

    let r = w
        .app
        .get("/api/v1/admin/stats/tickets?group_by=org", &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Tickets (the held one not yet), open, overdue, mean first reply (h), rated, satisfaction.
    assert_eq!(
        row(&r.body, &w.grass_a1.to_string()),
        vec![2.0, 1.0, 1.0, 2.0, 1.0, 4.0]
    );
    let r = w.app.get("/api/v1/admin/stats/tickets", &w.tb).await;
    let v = row(&r.body, r.body["data"]["rows"][0]["key"].as_str().unwrap());
    assert_eq!(&v[..3], &[1.0, 1.0, 0.0]);
    assert!(v[3].is_nan() && v[5].is_nan(), "{v:?}");
}

/// `stats:read` alone reads the member statistics but not aid or tickets; bad groupings are
/// a 400 naming the field.
#[tokio::test]
async fn aid_and_tickets_need_their_module_permission() {
    let w = world().await;
    let r = w
        .app
        .post(
            "/api/v1/admin/roles",
            &w.admin,
            json!({"name": "只看统计", "permissions": ["stats:read"], "data_scope": "org_and_below"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let role = r.data()["id"].as_i64().unwrap();
    let (_, t) = w
        .app
        .account_token(&w.admin, "stats_only", w.county_a, &[role])
        .await;
    assert_eq!(
        w.app.get("/api/v1/admin/stats/members", &t).await.status,
        StatusCode::OK
    );
    for topic in ["aid", "tickets"] {
        for suffix in ["", "/export"] {
            let r = w
                .app
                .get(&format!("/api/v1/admin/stats/{topic}{suffix}"), &t)
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{topic}{suffix}: {}",
                r.body
            );
        }
        let r = w
            .app
            .get(
                &format!("/api/v1/admin/stats/{topic}?group_by=gender"),
                &w.ta,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.body["error"]["fields"]["group_by"].is_string(),
            "{}",
            r.body
        );
    }
}
