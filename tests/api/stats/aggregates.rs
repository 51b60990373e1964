//! The per-org member counts against a full recount after a random mix of writes (API and
//! direct), and the member list total read from them.

use super::*;
use reqwest::StatusCode;
use serde_json::json;

/// A small deterministic generator (the mix is the same on every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn mismatches(app: &TestApp) -> Vec<gonghui::stats::aggregates::Mismatch> {
    app.state
        .db
        .read(|c| gonghui::stats::aggregates::member_mismatches(c, 50))
        .await
        .unwrap()
}

/// Inserts, updates of every counted column (and of uncounted ones), org moves, deletions,
/// and the staff create/transfer/leave routes: afterwards every stored count equals a
/// recount, and a tampered count is reported.
#[tokio::test]
async fn aggregates_equal_a_full_recount_after_a_random_mix_of_writes() {
    let w = world().await;
    let orgs = [Some(w.county_a), Some(w.grass_a1), Some(w.county_b), None];
    let statuses = [
        "registered",
        "pending",
        "active",
        "rejected",
        "left",
        "deleted",
    ];
    let genders = [Some("male"), Some("female"), None];
    let mut g = Lcg(23);
    let mut rows = vec![];
    for _ in 0..300 {
        rows.push((
            orgs[g.next(4) as usize],
            statuses[g.next(6) as usize],
            genders[g.next(3) as usize],
            (g.next(4) > 0).then(|| 1950 + g.next(60) as i64),
            (g.next(3) > 0).then(|| 1_600_000_000 + g.next(200_000_000) as i64),
        ));
    }
    let ids = insert_members(&w.app, rows).await;
    let mut ops = vec![];
    for _ in 0..600 {
        let id = ids[g.next(ids.len() as u64) as usize];
        let (sql, v): (&str, rusqlite::types::Value) = match g.next(7) {
            0 => (
                "UPDATE members SET status = ?1 WHERE id = ?2",
                statuses[g.next(6) as usize].to_string().into(),
            ),
            1 => (
                "UPDATE members SET org_id = ?1 WHERE id = ?2",
                orgs[g.next(4) as usize].into(),
            ),
            2 => (
                "UPDATE members SET gender = ?1 WHERE id = ?2",
                genders[g.next(3) as usize].map(String::from).into(),
            ),
            3 => (
                "UPDATE members SET birth_date = ?1 WHERE id = ?2",
                format!("{}-01-02", 1950 + g.next(60)).into(),
            ),
            4 => (
                "UPDATE members SET joined_at = ?1 WHERE id = ?2",
                (1_600_000_000 + g.next(200_000_000) as i64).into(),
            ),
            5 => (
                "UPDATE members SET nickname = ?1 WHERE id = ?2",
                "改名".to_string().into(),
            ),
            _ => (
                "DELETE FROM members WHERE id = ?2 AND ?1 IS NOT NULL",
                1i64.into(),
            ),
        };
        ops.push((sql, v, id));
    }
    w.app
        .state
        .db
        .write(move |c| {
            for (sql, v, id) in ops {
                c.execute(sql, rusqlite::params![v, id])?;
            }
            Ok(())
        })
        .await
        .unwrap();
    // Staff writes through the API.
    let r = w
        .app
        .post(
            "/api/v1/admin/members",
            &w.ta,
            json!({"org_id": w.grass_a1, "name": "赵六", "id_number": "11010519491231002X", "work_unit": "县第一中学"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let m = r.data()["id"].as_i64().unwrap();
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{m}/transfer"),
            &w.ta,
            json!({"org_id": w.county_a}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{m}/leave"),
            &w.ta,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    assert_eq!(mismatches(&w.app).await, vec![]);

    // A tampered count is found.
    w.app
        .state
        .db
        .write(|c| {
            c.execute(
                "UPDATE member_stat_counts SET n = n + 1 WHERE (org_id, status, dim, key) IN
                 (SELECT org_id, status, dim, key FROM member_stat_counts LIMIT 1)",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(mismatches(&w.app).await.len(), 1);
}

/// The member list's total is the aggregate without a keyword (scope, org and status
/// applied) and a capped count with one; both agree with the real count here.
#[tokio::test]
async fn member_list_total_comes_from_the_aggregate() {
    let w = world().await;
    let mut rows = vec![];
    for i in 0..12 {
        let org = if i % 3 == 0 { w.county_b } else { w.grass_a1 };
        let status = if i % 2 == 0 { "active" } else { "pending" };
        rows.push((Some(org), status, None, None, None));
    }
    rows.push((Some(w.grass_a1), "deleted", None, None, None));
    insert_members(&w.app, rows).await;
    let total = |r: &crate::support::Resp| r.body["data"]["total"].as_i64().unwrap();
    let r = w.app.get("/api/v1/admin/members?page_size=1", &w.ta).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(total(&r), 8);
    let r = w
        .app
        .get("/api/v1/admin/members?status=active", &w.ta)
        .await;
    assert_eq!(total(&r), 4);
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 4);
    let r = w
        .app
        .get(
            &format!("/api/v1/admin/members?org_id={}", w.county_b),
            &w.admin,
        )
        .await;
    assert_eq!(total(&r), 4);
    let r = w.app.get("/api/v1/admin/members", &w.admin).await;
    assert_eq!(total(&r), 12);
    // A keyword: counted (capped at 10000), within the scope.
    w.app
        .state
        .db
        .write(|c| Ok(c.execute("UPDATE members SET real_name = '统计甲'", [])?))
        .await
        .unwrap();
    let r = w
        .app
        .get("/api/v1/admin/members?q=%E7%BB%9F%E8%AE%A1", &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(total(&r), 8, "{}", r.body);
}
