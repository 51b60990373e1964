//! The points mall: orders never overspend points nor oversell stock under concurrency;
//! cancelling refunds exactly once; pickup by code; scope.

use super::*;

/// Create goods on the shelf as `token`; the id.
async fn goods(w: &World, price: i64, stock: i64, limit: i64) -> i64 {
    let body = json!({"org_id": w.grass_a1, "title": "保温杯", "points_price": price, "stock": stock,
        "per_member_limit": limit, "on_shelf": true});
    let r = w.app.post("/api/v1/admin/mall/goods", &w.ta, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// One member with 100 points orders a 10-point item 30 times at once: exactly 10 orders,
/// balance 0, 20 × 409 insufficient_points, never negative.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn thirty_orders_on_one_hundred_points_make_ten() {
    let w = world().await;
    let app = &w.app;
    let g = goods(&w, 10, 50, 50).await;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 100).await;
    let body = json!({"goods_id": g, "quantity": 1});
    let rs = futures::future::join_all(
        (0..30).map(|_| app.post("/api/v1/app/mall/orders", &t, body.clone())),
    )
    .await;
    let ok = rs
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let poor = rs
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "insufficient_points")
        .count();
    assert_eq!(
        (ok, poor),
        (10, 20),
        "{:?}",
        rs.iter().find(|r| r.status.is_server_error())
    );
    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["balance"], 0);
    assert_eq!(
        num(app, format!("SELECT sold FROM mall_goods WHERE id = {g}")).await,
        10
    );
    assert_eq!(
        num(app, "SELECT count(*) FROM mall_orders".into()).await,
        10
    );
    assert_eq!(
        num(app, "SELECT min(balance_after) FROM points_ledger".into()).await,
        0
    );
}

/// Thirty members with plenty of points order at once against stock 10: exactly 10 orders,
/// 20 × 409 out_of_stock, and the 20 keep their points.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn thirty_members_against_stock_ten_make_ten() {
    let w = world().await;
    let app = &w.app;
    let g = goods(&w, 10, 10, 1).await;
    let ms = members(app, 30, Some(w.grass_a1), "active").await;
    for (m, _) in &ms {
        give_points(app, &w.ta, *m, 50).await;
    }
    let body = json!({"goods_id": g});
    let rs = futures::future::join_all(
        ms.iter()
            .map(|(_, t)| app.post("/api/v1/app/mall/orders", t, body.clone())),
    )
    .await;
    let ok = rs
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let out = rs
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "out_of_stock")
        .count();
    assert_eq!((ok, out), (10, 20));
    assert_eq!(
        num(app, "SELECT sum(balance) FROM points_accounts".into()).await,
        30 * 50 - 10 * 10
    );
    assert_eq!(
        num(app, format!("SELECT sold FROM mall_goods WHERE id = {g}")).await,
        10
    );
}

/// Cancel and cancel again (also concurrently, member and staff): one refund, stock back once.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn double_cancel_refunds_once() {
    let w = world().await;
    let app = &w.app;
    let g = goods(&w, 10, 5, 5).await;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 30).await;
    let r = app
        .post(
            "/api/v1/app/mall/orders",
            &t,
            json!({"goods_id": g, "quantity": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let oid = r.data()["id"].as_i64().unwrap();
    assert_eq!(
        app.get("/api/v1/app/me/points", &t).await.data()["balance"],
        10
    );
    let mine = format!("/api/v1/app/me/mall/orders/{oid}/cancel");
    let staff = format!("/api/v1/admin/mall/orders/{oid}/cancel");
    let (a, b, c) = tokio::join!(
        app.post(&mine, &t, json!({})),
        app.post(&mine, &t, json!({})),
        app.post(&staff, &w.ta, json!({"reason": "缺货"})),
    );
    let oks = [&a, &b, &c]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(oks, 1, "{a:?} {b:?} {c:?}");
    for r in [&a, &b, &c].iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "order_not_pending")
        );
    }
    assert_eq!(
        app.get("/api/v1/app/me/points", &t).await.data()["balance"],
        30
    );
    let q = format!(
        "SELECT count(*) FROM points_ledger WHERE source_type = 'mall_refund' AND source_id = {oid}"
    );
    assert_eq!(num(app, q).await, 1);
    assert_eq!(
        num(app, format!("SELECT sold FROM mall_goods WHERE id = {g}")).await,
        0
    );
}

/// Pickup needs the right code, happens once, only by staff in scope; the sibling county sees
/// no orders and cannot touch the goods.
#[tokio::test]
async fn pickup_by_code_in_scope() {
    let w = world().await;
    let app = &w.app;
    let g = goods(&w, 5, 5, 5).await;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 5).await;
    let r = app
        .post("/api/v1/app/mall/orders", &t, json!({"goods_id": g}))
        .await;
    let (oid, code) = (
        r.data()["id"].as_i64().unwrap(),
        r.data()["pickup_code"].as_str().unwrap().to_string(),
    );
    let path = format!("/api/v1/admin/mall/orders/{oid}/fulfil");
    let r = app.post(&path, &w.tb, json!({"pickup_code": code})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&path, &w.ta, json!({"pickup_code": "WRONGCODE222"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["pickup_code"].is_string());
    let r = app.post(&path, &w.ta, json!({"pickup_code": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "fulfilled");
    let r = app.post(&path, &w.ta, json!({"pickup_code": code})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "order_not_pending")
    );
    let r = app
        .post(
            &format!("/api/v1/app/me/mall/orders/{oid}/cancel"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        app.get("/api/v1/admin/mall/orders", &w.tb).await.data()["total"],
        0
    );
    assert_eq!(
        app.get("/api/v1/admin/mall/orders", &w.ta).await.data()["total"],
        1
    );
    let r = app
        .patch(
            &format!("/api/v1/admin/mall/goods/{g}"),
            &w.tb,
            json!({"stock": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .patch(
            &format!("/api/v1/admin/mall/goods/{g}"),
            &w.ta,
            json!({"stock": 0}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "stock below the units sold"
    );
    // A member of the sibling county does not see the goods and cannot order.
    let (mb, tb) = members(app, 1, Some(w.county_b), "active").await.remove(0);
    give_points(app, &w.tb, mb, 50).await;
    assert_eq!(
        app.get("/api/v1/app/mall/goods", &tb).await.data()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let r = app
        .post("/api/v1/app/mall/orders", &tb, json!({"goods_id": g}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Both exports answer an xlsx with masked names and write their audit row first; the order
/// shows who handed it over.
#[tokio::test]
async fn exports_are_xlsx_masked_and_audited() {
    let w = world().await;
    let app = &w.app;
    let b = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 5)).await;
    let g = goods(&w, 5, 5, 5).await;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 5).await;
    assert_eq!(
        app.post(&claim_path(b), &t, json!({})).await.status,
        StatusCode::CREATED
    );
    let r = app
        .post("/api/v1/app/mall/orders", &t, json!({"goods_id": g}))
        .await;
    let (oid, code) = (
        r.data()["id"].as_i64().unwrap(),
        r.data()["pickup_code"].as_str().unwrap().to_string(),
    );
    let r = app
        .post(
            &format!("/api/v1/admin/mall/orders/{oid}/fulfil"),
            &w.ta,
            json!({"pickup_code": code}),
        )
        .await;
    assert!(r.data()["fulfilled_by"].is_i64(), "{:?}", r.body);
    for path in [
        format!("/api/v1/admin/benefits/{b}/claims/export"),
        "/api/v1/admin/mall/orders/export".to_string(),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&w.ta)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.contains("spreadsheetml"), "{ct}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{path}: not a zip");
    }
    let q = "SELECT count(*) FROM audit_logs WHERE action IN ('benefit.export', 'mall.export')"
        .to_string();
    assert_eq!(num(app, q).await, 2);
    // The staff claim list masks the member's name.
    let r = app
        .get(&format!("/api/v1/admin/benefits/{b}/claims"), &w.ta)
        .await;
    assert_eq!(r.data()["items"][0]["member_name"], "测**");
}

/// Goods without orders are removed; goods with orders are archived: gone from the member
/// mall and staff lists, not orderable, while the order keeps its history and can still be
/// cancelled (refund and stock back). A sibling county cannot delete; a second delete is 404.
#[tokio::test]
async fn deleting_goods_removes_or_archives_them() {
    let w = world().await;
    let app = &w.app;
    let bare = goods(&w, 5, 10, 1).await;
    let g = goods(&w, 10, 10, 5).await;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 50).await;
    let r = app
        .post("/api/v1/app/mall/orders", &t, json!({"goods_id": g}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let oid = r.data()["id"].as_i64().unwrap();

    // Outside scope: 404 and nothing changed.
    let before = num(
        app,
        "SELECT coalesce(sum(updated_at), 0) + count(*) FROM mall_goods".into(),
    )
    .await;
    for id in [bare, g] {
        let r = app
            .delete(&format!("/api/v1/admin/mall/goods/{id}"), &w.tb)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    assert_eq!(
        num(
            app,
            "SELECT coalesce(sum(updated_at), 0) + count(*) FROM mall_goods".into()
        )
        .await,
        before
    );

    let r = app
        .delete(&format!("/api/v1/admin/mall/goods/{bare}"), &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (
            r.data()["deleted"].as_bool(),
            r.data()["archived"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(
        num(
            app,
            format!("SELECT count(*) FROM mall_goods WHERE id = {bare}")
        )
        .await,
        0
    );
    let r = app
        .delete(&format!("/api/v1/admin/mall/goods/{g}"), &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["archived"], true);
    let r = app
        .delete(&format!("/api/v1/admin/mall/goods/{g}"), &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let q = "SELECT count(*) FROM audit_logs WHERE action = 'mall_goods.delete'".to_string();
    assert_eq!(num(app, q).await, 2);

    // Gone for members and staff.
    let r = app.get("/api/v1/app/mall/goods", &t).await;
    assert_eq!(r.data()["items"], json!([]), "{:?}", r.body);
    let r = app.get("/api/v1/admin/mall/goods", &w.ta).await;
    assert_eq!(r.data()["total"], 0, "{:?}", r.body);
    let r = app
        .get(&format!("/api/v1/admin/mall/goods/{g}"), &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post("/api/v1/app/mall/orders", &t, json!({"goods_id": g}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The order keeps its history and can still be cancelled with a refund.
    let r = app.get("/api/v1/app/me/mall/orders", &t).await;
    assert_eq!(r.data()["items"][0]["goods_title"], "保温杯");
    let r = app
        .post(
            &format!("/api/v1/admin/mall/orders/{oid}/cancel"),
            &w.ta,
            json!({"reason": "商品已下架"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["balance"], 50);
    assert_eq!(
        num(app, format!("SELECT sold FROM mall_goods WHERE id = {g}")).await,
        0
    );
}
