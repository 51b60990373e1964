//! Reply deadlines in working time: the seeded categories count working days, holidays from
//! the configuration push them out, and staff over the whole tree change a category's deadline
//! (which applies to tickets opened afterwards).

use super::*;
use gonghui::tickets::calendar::{Unit, WorkCalendar};

fn secs(v: &Value, key: &str) -> i64 {
    gonghui::time::parse(v[key].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn seeded_categories_count_working_days() {
    let d = desk().await;
    let app = &d.app;
    let c = app.get("/api/v1/app/ticket-categories", &d.m.1).await;
    let first = &c.data()[0];
    assert_eq!(
        (
            first["deadline_unit"].as_str(),
            first["deadline_amount"].as_i64(),
            first["deadline_text"].as_str()
        ),
        (Some("work_days"), Some(1), Some("1 个工作日"))
    );
    let r = app
        .post("/api/v1/app/tickets", &d.m.1, ticket_body("欠薪"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let (from, due) = (secs(r.data(), "created_at"), secs(r.data(), "deadline_at"));
    assert_eq!(
        due,
        WorkCalendar::default().deadline(from, Unit::WorkDays, 1)
    );
    // The end of a working day (17:00 Beijing time), one to four calendar days later.
    assert_eq!((due + 8 * 3600).rem_euclid(86_400), 17 * 3600);
    assert!(
        (86_400 / 3..=4 * 86_400).contains(&(due - from)),
        "{from} {due}"
    );
}

#[tokio::test]
async fn configured_holidays_push_the_deadline_out() {
    // Every day of the next three weeks is a holiday: the first working day comes after.
    let today = gonghui::time::now().div_euclid(86_400);
    let d = desk_with(|c| {
        c.tickets.holidays = (0..22)
            .map(|i| {
                let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                    + chrono::Duration::days(today + i);
                day.format("%Y-%m-%d").to_string()
            })
            .collect();
    })
    .await;
    let app = &d.app;
    let r = app
        .post("/api/v1/app/tickets", &d.m.1, ticket_body("欠薪"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let (from, due) = (secs(r.data(), "created_at"), secs(r.data(), "deadline_at"));
    assert!(due - from >= 20 * 86_400, "{from} {due}");
}

#[tokio::test]
async fn whole_tree_staff_change_a_category_deadline() {
    let d = desk().await;
    let app = &d.app;
    let path = "/api/v1/admin/ticket-categories/1";
    let body = json!({"deadline_unit": "work_hours", "deadline_amount": 4});
    // A county admin lacks the permission; the whole tree is needed anyway.
    let r = app.patch(path, &d.admin_a, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for bad in [
        json!({"deadline_unit": "hours", "deadline_amount": 4}),
        json!({"deadline_unit": "work_days", "deadline_amount": 91}),
        json!({"deadline_unit": "work_hours", "deadline_amount": 0}),
        json!({"deadline_unit": "work_hours"}),
    ] {
        let r = app.patch(path, &d.admin, bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", r.body);
    }
    let r = app
        .patch(
            "/api/v1/admin/ticket-categories/999",
            &d.admin,
            body.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let unchanged = app.get("/api/v1/admin/ticket-categories", &d.admin).await;
    assert_eq!(unchanged.data()[0]["deadline_unit"], "work_days");

    let r = app.patch(path, &d.admin, body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["deadline_text"], "4 个工作小时");
    let audited = num(
        app,
        "SELECT count(*) FROM audit_logs WHERE action = 'ticket.category_update' AND target_id = '1'".into(),
    )
    .await;
    assert_eq!(audited, 1);
    let t = app
        .post("/api/v1/app/tickets", &d.m.1, ticket_body("欠薪"))
        .await;
    let (from, due) = (secs(t.data(), "created_at"), secs(t.data(), "deadline_at"));
    assert_eq!(
        due,
        WorkCalendar::default().deadline(from, Unit::WorkHours, 4)
    );
}
