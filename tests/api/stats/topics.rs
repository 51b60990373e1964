//! Activity and news statistics on known data, and the audited xlsx export.

use super::*;
use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;

/// Two published activities in A1 (one ended, one ahead) and a draft; registrations with
/// check-ins, a no-show and ratings; one published article in A with views, one in B.
async fn seed(w: &World) {
    let (a1, a, b) = (w.grass_a1, w.county_a, w.county_b);
    let m = insert_members(
        &w.app,
        (0..4)
            .map(|_| (Some(a1), "active", None, None, None))
            .collect(),
    )
    .await;
    w.app
        .state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            let act = |org: i64, cat: &str, starts: i64, status: &str| -> rusqlite::Result<i64> {
                c.execute(
                    "INSERT INTO activities (org_id, title, category, location_name, starts_at, ends_at,
                        signup_starts_at, signup_ends_at, quota, status, created_at, updated_at)
                     VALUES (?1, '统计活动', ?2, '县体育场', ?3, ?3 + 3600, ?3 - 86400, ?3 - 60, 100, ?4, ?5, ?5)",
                    rusqlite::params![org, cat, starts, status, now],
                )?;
                Ok(c.last_insert_rowid())
            };
            let ended = act(a1, "sports", now - 86_400, "finished")?;
            let ahead = act(a1, "culture", now + 86_400, "published")?;
            act(a1, "sports", now, "draft")?;
            let reg = |aid: i64, mid: i64, status: &str, checked: bool, rating: Option<i64>| {
                c.execute(
                    "INSERT INTO activity_registrations (activity_id, member_id, org_id, status, checked_in_at, rating, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    rusqlite::params![aid, mid, a1, status, checked.then_some(now), rating, now],
                )
            };
            reg(ended, m[0], "approved", true, Some(4))?;
            reg(ended, m[1], "approved", true, Some(5))?;
            reg(ended, m[2], "approved", false, None)?;
            reg(ended, m[3], "cancelled", false, None)?;
            reg(ahead, m[0], "pending", false, None)?;
            for (org, views) in [(a, 7), (b, 100)] {
                c.execute(
                    "INSERT INTO news (org_id, category_id, title, body_html, body_text, status, published_at,
                        view_count, search_version, created_at, updated_at)
                     VALUES (?1, (SELECT id FROM news_categories WHERE name = '工会要闻'), '统计新闻', '<p>x</p>', 'x',
                        'published', ?2, ?3, 1, ?2, ?2)",
                    rusqlite::params![org, now, views],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// Activities by category and by org: counts, registrations, attendance, no-shows and the
/// average rating; news by category; a county sees only its subtree.
#[tokio::test]
async fn activities_and_news_on_known_data() {
    let w = world().await;
    seed(&w).await;
    let r = w.app.get("/api/v1/admin/stats/activities", &w.ta).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cols: Vec<&str> = r.body["data"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        cols,
        [
            "activities",
            "registrations",
            "checked_in",
            "attendance_rate",
            "no_show",
            "avg_rating"
        ]
    );
    let sports = row(&r.body, "sports");
    assert_eq!(&sports[..3], &[1.0, 3.0, 2.0]);
    assert!((sports[3] - 2.0 / 3.0).abs() < 1e-9, "{sports:?}");
    assert_eq!(sports[4], 1.0);
    assert_eq!(sports[5], 4.5);
    let rows = r.body["data"]["rows"].as_array().unwrap();
    assert!(rows.iter().any(|x| x["label"] == "体育"), "{}", r.body);
    let culture = row(&r.body, "culture");
    assert_eq!(&culture[..3], &[1.0, 1.0, 0.0]);
    assert!(culture[3].is_nan() && culture[5].is_nan(), "{culture:?}");

    // By org from A: everything in A1; a period before the ended activity's start leaves it out.
    let r = w
        .app
        .get("/api/v1/admin/stats/activities?group_by=org", &w.ta)
        .await;
    assert_eq!(row(&r.body, &w.grass_a1.to_string())[0], 2.0);
    assert_eq!(row(&r.body, "self")[0], 0.0);
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    let r = w
        .app
        .get(
            &format!("/api/v1/admin/stats/activities?group_by=month&from={today}"),
            &w.ta,
        )
        .await;
    let total: f64 = r.body["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["values"][0].as_f64().unwrap())
        .sum();
    assert_eq!(total, 1.0, "{}", r.body);
    // County B has no activities.
    let r = w.app.get("/api/v1/admin/stats/activities", &w.tb).await;
    assert!(r.body["data"]["rows"].as_array().unwrap().is_empty());

    // News: A sees its 7 views, the root both articles.
    let r = w.app.get("/api/v1/admin/stats/news", &w.ta).await;
    let cat = &r.body["data"]["rows"][0];
    assert_eq!(cat["label"], "工会要闻");
    assert_eq!(cat["values"], serde_json::json!([1.0, 7.0]));
    let r = w
        .app
        .get("/api/v1/admin/stats/news?group_by=org", &w.admin)
        .await;
    assert_eq!(row(&r.body, &w.county_a.to_string()), vec![1.0, 7.0]);
    assert_eq!(row(&r.body, &w.county_b.to_string()), vec![1.0, 100.0]);
    // Benefits and points answer (empty here) with their columns.
    for t in ["benefits", "points"] {
        let r = w
            .app
            .get(&format!("/api/v1/admin/stats/{t}?group_by=month"), &w.ta)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{t}: {}", r.body);
        assert!(!r.body["data"]["columns"].as_array().unwrap().is_empty());
    }
}

/// The export is the same table as xlsx, written only after its audit row.
#[tokio::test]
async fn export_is_the_same_table_and_audited() {
    let w = world().await;
    insert_members(
        &w.app,
        vec![
            (Some(w.grass_a1), "active", Some("male"), None, None),
            (Some(w.grass_a1), "active", Some("female"), None, None),
        ],
    )
    .await;
    let resp = w
        .app
        .client
        .get(format!(
            "{}/api/v1/admin/stats/members/export?group_by=org&from=2024-01-01",
            w.app.base
        ))
        .bearer_auth(&w.ta)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = resp.bytes().await.unwrap().to_vec();
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<Vec<String>> = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    o => o.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(cells[0][..3], ["组织", "会员合计", "正式会员"]);
    let a1 = cells.iter().find(|r| r[0] == "组织ga1").expect("A1 row");
    assert_eq!(a1[1], "2");
    assert!(
        cells.iter().any(|r| r[0].contains("2024-01-01")),
        "{cells:?}"
    );
    let summary: String = w
        .app
        .state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT summary FROM audit_logs WHERE action = 'stats.export' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    let s: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(s["topic"], "members");
    assert_eq!(s["group_by"], "org");
    assert_eq!(s["org_id"], w.county_a);
    assert_eq!(s["period_from"], "2024-01-01");
    // Outside the scope: 404, nothing audited.
    let r = w
        .app
        .get(
            &format!("/api/v1/admin/stats/members/export?org_id={}", w.county_b),
            &w.ta,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
