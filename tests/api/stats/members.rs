//! Member statistics on known data, drill-down, scope and bad input.

use super::*;
use reqwest::StatusCode;

/// Unix seconds of the 15th of a month, noon +08:00.
fn month_ts(y: i64, m: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y as i32, m, 15)
        .unwrap()
        .and_hms_opt(4, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

/// Known members in A (direct), A1 and B: counts by status, gender, age band, join month,
/// and by child org with subtree totals; a county sees only its subtree.
#[tokio::test]
async fn members_by_status_gender_age_join_month_and_org() {
    let w = world().await;
    let y = this_year();
    let j1 = Some(month_ts(2024, 3));
    let j2 = Some(month_ts(2024, 5));
    insert_members(
        &w.app,
        vec![
            (Some(w.county_a), "active", Some("male"), Some(y - 20), j1),
            (Some(w.grass_a1), "active", Some("female"), Some(y - 30), j1),
            (Some(w.grass_a1), "active", Some("female"), Some(y - 40), j2),
            (
                Some(w.grass_a1),
                "pending",
                Some("male"),
                Some(y - 60),
                None,
            ),
            (Some(w.grass_a1), "left", None, None, j2),
            (Some(w.county_b), "active", Some("male"), Some(y - 50), j2),
            (Some(w.county_b), "deleted", Some("male"), Some(y - 50), j2),
            // Registered account without an org: in no org's statistics.
            (None, "registered", None, None, None),
        ],
    )
    .await;
    let base = "/api/v1/admin/stats/members";

    // County A by status (its own org by default): A and A1, not B.
    let r = w.app.get(base, &w.ta).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["data"]["org_id"], w.county_a);
    assert_eq!(r.body["data"]["group_by"], "status");
    assert_eq!(row(&r.body, "active"), vec![3.0]);
    assert_eq!(row(&r.body, "pending"), vec![1.0]);
    assert_eq!(row(&r.body, "left"), vec![1.0]);
    assert_eq!(row(&r.body, "registered"), vec![0.0]);

    // Gender: total, active, pending, left.
    let r = w.app.get(&format!("{base}?group_by=gender"), &w.ta).await;
    assert_eq!(row(&r.body, "male"), vec![2.0, 1.0, 1.0, 0.0]);
    assert_eq!(row(&r.body, "female"), vec![2.0, 2.0, 0.0, 0.0]);
    assert_eq!(row(&r.body, ""), vec![1.0, 0.0, 0.0, 1.0]);

    // Age bands from the birth year.
    let r = w.app.get(&format!("{base}?group_by=age_band"), &w.ta).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(row(&r.body, "0-25")[0], 1.0);
    assert_eq!(row(&r.body, "26-35")[0], 1.0);
    assert_eq!(row(&r.body, "36-45")[0], 1.0);
    assert_eq!(row(&r.body, "46-55")[0], 0.0);
    assert_eq!(row(&r.body, "56+")[0], 1.0);
    assert_eq!(row(&r.body, "unknown")[0], 1.0);

    // Growth: joins per month and the running total; a period keeps the running total.
    let r = w
        .app
        .get(&format!("{base}?group_by=join_month"), &w.ta)
        .await;
    assert_eq!(keys(&r.body), vec!["2024-03", "2024-05", "unknown"]);
    assert_eq!(row(&r.body, "2024-03"), vec![2.0, 2.0, 0.0, 0.0, 2.0]);
    assert_eq!(row(&r.body, "2024-05"), vec![2.0, 1.0, 0.0, 1.0, 4.0]);
    let r = w
        .app
        .get(
            &format!("{base}?group_by=join_month&from=2024-04-01&to=2024-12-31"),
            &w.ta,
        )
        .await;
    assert_eq!(keys(&r.body), vec!["2024-05"]);
    assert_eq!(row(&r.body, "2024-05")[4], 4.0);
    let r = w
        .app
        .get(&format!("{base}?group_by=join_year"), &w.ta)
        .await;
    assert_eq!(row(&r.body, "2024")[0], 4.0);

    // Drill-down from the root: A's subtree total, B's, and the root's own (none).
    let r = w.app.get(&format!("{base}?group_by=org"), &w.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        row(&r.body, &w.county_a.to_string()),
        vec![5.0, 3.0, 1.0, 1.0]
    );
    assert_eq!(
        row(&r.body, &w.county_b.to_string()),
        vec![1.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(row(&r.body, "self"), vec![0.0, 0.0, 0.0, 0.0]);
    let rows = r.body["data"]["rows"].as_array().unwrap();
    assert_eq!(rows[1]["org_id"], w.county_a);
    // One level down: A's own member and A1.
    let r = w
        .app
        .get(&format!("{base}?group_by=org&org_id={}", w.county_a), &w.ta)
        .await;
    assert_eq!(row(&r.body, "self"), vec![1.0, 1.0, 0.0, 0.0]);
    assert_eq!(
        row(&r.body, &w.grass_a1.to_string()),
        vec![4.0, 2.0, 1.0, 1.0]
    );
    assert_eq!(keys(&r.body).len(), 2, "{}", r.body);
    // County A's parent (the root) is outside its scope: no way up.
    assert!(r.body["data"]["parent_org_id"].is_null());
    let r = w
        .app
        .get(&format!("{base}?org_id={}", w.grass_a1), &w.admin)
        .await;
    assert_eq!(r.body["data"]["parent_org_id"], w.county_a);

    // County B sees only B; A's org and the root are 404 to it.
    let r = w.app.get(base, &w.tb).await;
    assert_eq!(row(&r.body, "active"), vec![1.0]);
    for org in [w.county_a, w.grass_a1, 1] {
        let r = w.app.get(&format!("{base}?org_id={org}"), &w.tb).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{org}: {}", r.body);
    }
    let r = w.app.get(&format!("{base}?org_id=999999"), &w.admin).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Bad enums, dates and periods are 400s naming the field in Chinese; an unknown topic is a
/// 404; a grouping another topic has is refused for this one.
#[tokio::test]
async fn bad_input_is_a_field_error() {
    let w = world().await;
    let cases = [
        ("/api/v1/admin/stats/members?group_by=bogus", "group_by"),
        ("/api/v1/admin/stats/members?group_by=category", "group_by"),
        ("/api/v1/admin/stats/benefits?group_by=gender", "group_by"),
        ("/api/v1/admin/stats/members?from=2024-13-01", "from"),
        ("/api/v1/admin/stats/activities?to=yesterday", "to"),
        (
            "/api/v1/admin/stats/news?from=2024-05-01&to=2024-04-01",
            "to",
        ),
        ("/api/v1/admin/stats/members?org_id=0", "org_id"),
    ];
    for (path, field) in cases {
        let r = w.app.get(path, &w.ta).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        let msg = r.body["error"]["fields"][field]
            .as_str()
            .unwrap_or_default();
        assert!(
            msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{path}: {}",
            r.body
        );
    }
    let r = w.app.get("/api/v1/admin/stats/salaries", &w.ta).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = w
        .app
        .get("/api/v1/admin/stats/members?org_id=abc", &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Without stats:read: 403.
    let (_, clerk) = w
        .app
        .account_token(&w.admin, "no_stats", w.county_a, &[])
        .await;
    let r = w.app.get("/api/v1/admin/stats/members", &clerk).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Member tables are kept in memory between requests; every change of a member or an org
/// reaches the very next one, and viewers with another scope never share an answer.
#[tokio::test]
async fn the_cached_member_table_follows_every_change() {
    let w = world().await;
    let y = this_year();
    let j = Some(month_ts(2024, 3));
    let ids = insert_members(
        &w.app,
        vec![(Some(w.grass_a1), "active", Some("male"), Some(y - 30), j)],
    )
    .await;
    let base = "/api/v1/admin/stats/members";
    for _ in 0..2 {
        let r = w.app.get(base, &w.ta).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(row(&r.body, "active"), vec![1.0]);
    }
    // A new member (through the writer, as the app's own paths write).
    insert_members(
        &w.app,
        vec![(Some(w.county_a), "active", Some("female"), Some(y - 40), j)],
    )
    .await;
    let r = w.app.get(base, &w.ta).await;
    assert_eq!(row(&r.body, "active"), vec![2.0], "{}", r.body);
    // A status change moves a count (the counts table is kept by triggers).
    let id = ids[0];
    w.app
        .exec("UPDATE members SET status = 'left' WHERE id = ?1", id)
        .await;
    let r = w.app.get(base, &w.ta).await;
    assert_eq!(row(&r.body, "active"), vec![1.0], "{}", r.body);
    assert_eq!(row(&r.body, "left"), vec![1.0], "{}", r.body);
    // An org renamed: the table's org name follows.
    let r = w
        .app
        .patch(
            &format!("/api/v1/admin/orgs/{}", w.county_a),
            &w.admin,
            serde_json::json!({"name": "改名县总工会"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = w.app.get(base, &w.ta).await;
    assert_eq!(r.body["data"]["org_name"], "改名县总工会", "{}", r.body);
    // County B's admin asks the same query: its own subtree, never A's cached answer.
    let r = w.app.get(base, &w.tb).await;
    assert_eq!(r.body["data"]["org_id"], w.county_b, "{}", r.body);
    assert_eq!(row(&r.body, "active"), vec![0.0], "{}", r.body);
    // And county A's org is still outside B's scope.
    let r = w
        .app
        .get(&format!("{base}?org_id={}", w.county_a), &w.tb)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}
