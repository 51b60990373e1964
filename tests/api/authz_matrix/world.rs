//! The arranged installation: root → county A → grassroots A1 (+ throwaway orgs), root →
//! county B → grassroots B1; the principals; and one real object per path id, in county A.

use crate::activities::{activity_body, published, template};
use crate::support::{PW, Resp, TestApp, roles, spawn_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A 1×1 greyscale PNG, hex.
const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c636000000002000148afa4710000000049454e44ae426082";

/// Every permission code, for the full-permission roles of the county principals.
fn all_codes() -> Vec<&'static str> {
    gonghui::auth::permissions::CATALOG
        .iter()
        .map(|p| p.code)
        .collect()
}

/// The installation: the app, tokens by principal, ids by fixture key.
pub struct World {
    /// The running app.
    pub app: TestApp,
    /// Tokens: `member` (of A1), `member_b` (of B1), `lacks` (only `org:read`), `lacks_ll` (only `loginlog:read`),
    /// `staff_a`, `staff_b` (every permission, `org_and_below` of their county), `root`.
    pub tokens: HashMap<&'static str, String>,
    /// Tokens of accounts in county A holding exactly one permission, by code.
    pub holders: HashMap<&'static str, String>,
    /// Ids by fixture key.
    pub ids: HashMap<String, i64>,
    /// The claim code of the `claim` fixture (for `$CLAIM_CODE`).
    pub claim_code: String,
}

impl World {
    /// The id of fixture `k`.
    pub fn id(&self, k: &str) -> i64 {
        *self.ids.get(k).unwrap_or_else(|| panic!("no fixture {k}"))
    }
}

/// Send a request; `body` is JSON, `null` for none, or `"upload"` for a multipart PNG.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Resp {
    let mut rb = app.client.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if body == &json!("upload") {
        let part = reqwest::multipart::Part::bytes(hex::decode(PNG).unwrap()).file_name("a.png");
        let form = reqwest::multipart::Form::new().text("purpose", "attachment");
        rb = rb.multipart(form.part("file", part.mime_str("image/png").unwrap()));
    } else if !body.is_null() {
        rb = rb.json(body);
    }
    TestApp::read(rb.send().await.expect("request")).await
}

/// POST expecting 201; the new id.
async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> i64 {
    let r = send(app, Method::POST, path, Some(token), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Insert an active member of `org`; its id.
async fn member_row(app: &TestApp, org: i64, name: &'static str) -> i64 {
    let w = move |c: &rusqlite::Connection| {
        let now = gonghui::time::now();
        c.execute(
            "INSERT INTO members (status, org_id, org_since, real_name, nickname, created_at, updated_at) VALUES ('active', ?1, ?2, ?3, ?3, ?2, ?2)",
            rusqlite::params![org, now, name],
        )?;
        Ok(c.last_insert_rowid())
    };
    app.state.db.write(w).await.unwrap()
}

/// Run one insert and return its row id.
async fn insert(app: &TestApp, sql: &'static str, p: Vec<i64>) -> i64 {
    let w = move |c: &rusqlite::Connection| {
        c.execute(sql, rusqlite::params_from_iter(p))?;
        Ok(c.last_insert_rowid())
    };
    app.state.db.write(w).await.unwrap()
}

/// Build the world.
pub async fn world() -> World {
    let app = spawn_with(|c| {
        c.auth.login_per_ip_per_minute = 10_000;
        c.activities.job_interval_secs = 3600;
    })
    .await;
    let su = app.admin_token().await;
    let mut ids: HashMap<String, i64> = HashMap::new();
    let root = app.root_org().await;
    let a = app.create_org(&su, root, "mx-a", "county").await;
    let a1 = app.create_org(&su, a, "mx-a1", "grassroots").await;
    let b = app.create_org(&su, root, "mx-b", "county").await;
    app.create_org(&su, b, "mx-b1", "grassroots").await;
    for (k, v) in [("root", root), ("a", a), ("a1", a1), ("b", b)] {
        ids.insert(k.into(), v);
    }
    for k in ["org_del", "org_del2", "org_del3"] {
        ids.insert(k.into(), app.create_org(&su, a, k, "grassroots").await);
    }
    let role = |name: &str, perms: Vec<&str>| json!({"name": name, "permissions": perms, "data_scope": "org_and_below"});
    let full = created(
        &app,
        &su,
        "/api/v1/admin/roles",
        role("全部权限", all_codes()),
    )
    .await;
    let only_org = created(
        &app,
        &su,
        "/api/v1/admin/roles",
        role("仅查看组织", vec!["org:read"]),
    )
    .await;
    let only_ll = created(
        &app,
        &su,
        "/api/v1/admin/roles",
        role("仅登录日志", vec!["loginlog:read"]),
    )
    .await;
    let mut tokens = HashMap::from([("root", su.clone())]);
    let mut holders = HashMap::new();
    for (name, org, r) in [
        ("staff_a", a, full),
        ("staff_b", b, full),
        ("lacks", a, only_org),
        ("lacks_ll", a, only_ll),
    ] {
        let (id, t) = app.account_token(&su, name, org, &[r]).await;
        ids.insert(name.into(), id);
        tokens.insert(name, t);
    }
    // One account in county A per permission, holding only that permission.
    for (i, code) in all_codes().into_iter().enumerate() {
        let r = created(
            &app,
            &su,
            "/api/v1/admin/roles",
            role(&format!("仅{code}"), vec![code]),
        )
        .await;
        let (_, t) = app.account_token(&su, &format!("only_{i}"), a, &[r]).await;
        holders.insert(code, t);
    }
    let ta = tokens["staff_a"].clone();
    let acc = json!({"username": "acc_a1", "name": "专干", "org_id": a1, "role_ids": [roles::GRASSROOTS_CLERK], "password": PW});
    ids.insert(
        "acc_a1".into(),
        created(&app, &su, "/api/v1/admin/accounts", acc).await,
    );
    for k in ["role_a", "role_del", "role_del2", "role_del3"] {
        // `role:write` only, so the holder of just that code may edit it (no escalation).
        let body = json!({"name": k, "permissions": ["role:write"], "data_scope": "org"});
        ids.insert(
            k.into(),
            created(&app, &ta, "/api/v1/admin/roles", body).await,
        );
    }
    // A role the holder of just `account:write` may grant (nobody grants what they lack).
    let body = json!({"name": "可授予", "permissions": ["account:write"], "data_scope": "org"});
    ids.insert(
        "grant_role".into(),
        created(&app, &ta, "/api/v1/admin/roles", body).await,
    );
    for k in ["file", "file_del", "file_del2", "file_del3"] {
        let u = json!("upload");
        ids.insert(k.into(), created(&app, &ta, "/api/v1/admin/files", u).await);
    }
    // Members: the principal, a throwaway one (leave, transfer), a registrant.
    let member = member_row(&app, a1, "王小明").await;
    ids.insert("member".into(), member);
    tokens.insert(
        "member",
        gonghui::auth::tokens::issue_access(&app.state.keys, "app", member, 1, 3600).unwrap(),
    );
    ids.insert("mem_x".into(), member_row(&app, a1, "李四").await);
    let b1 = app
        .query_i64("SELECT id FROM orgs WHERE code = 'mx-b1'")
        .await;
    let member_b = member_row(&app, b1, "陈五").await;
    tokens.insert(
        "member_b",
        gonghui::auth::tokens::issue_access(&app.state.keys, "app", member_b, 1, 3600).unwrap(),
    );
    let reg = member_row(&app, a1, "张三").await;
    ids.insert("reg_member".into(), reg);
    let sql = "INSERT INTO realname_conflicts (claimant_id, holder_id, id_bidx, created_at) VALUES (?1, ?2, 'authz-matrix', 0)";
    ids.insert(
        "conflict".into(),
        insert(&app, sql, vec![reg, member]).await,
    );
    let sql = "INSERT INTO membership_applications (member_id, org_id, work_unit, created_at) VALUES (?1, ?2, '县第一中学', 0)";
    ids.insert("application".into(), insert(&app, sql, vec![reg, a1]).await);
    // Live sessions of the A1 account to force out (county A, root and the holder each end one).
    for (k, sql) in [
        (
            "sess",
            "INSERT INTO admin_sessions (admin_id, family, token_version, ip, created_at, last_seen_at, expires_at) VALUES (?1, 'mx-s1', 1, '', 0, 0, 4102444800)",
        ),
        (
            "sess2",
            "INSERT INTO admin_sessions (admin_id, family, token_version, ip, created_at, last_seen_at, expires_at) VALUES (?1, 'mx-s2', 1, '', 0, 0, 4102444800)",
        ),
        (
            "sess3",
            "INSERT INTO admin_sessions (admin_id, family, token_version, ip, created_at, last_seen_at, expires_at) VALUES (?1, 'mx-s3', 1, '', 0, 0, 4102444800)",
        ),
    ] {
        ids.insert(k.into(), insert(&app, sql, vec![ids["acc_a1"]]).await);
    }
    let sql = "INSERT INTO member_import_jobs (admin_id, status, created_at, updated_at) VALUES (?1, 'done', 0, 0)";
    ids.insert("job".into(), insert(&app, sql, vec![ids["staff_a"]]).await);
    // Activities: one published with a registration, throwaways to cancel and delete.
    ids.insert("tpl".into(), template(&app, &ta).await);
    for k in ["tpl_del", "tpl_del2", "tpl_del3"] {
        ids.insert(k.into(), template(&app, &ta).await);
    }
    let act = published(&app, &ta, activity_body(a, 50)).await;
    ids.insert("act".into(), act);
    ids.insert(
        "act_cancel".into(),
        published(&app, &ta, activity_body(a, 5)).await,
    );
    for k in ["act_del", "act_del2", "act_del3"] {
        let id = created(&app, &ta, "/api/v1/admin/activities", activity_body(a, 5)).await;
        ids.insert(k.into(), id);
    }
    let rt = gonghui::auth::tokens::issue_access(&app.state.keys, "app", reg, 1, 3600).unwrap();
    let path = format!("/api/v1/app/activities/{act}/registrations");
    ids.insert("rid".into(), created(&app, &rt, &path, json!({})).await);
    // Backups: rows whose archive is not on disk (verify and download answer 409 to root).
    for k in ["bak", "bak_del"] {
        let name = format!("gonghui-fixture-{k}.zip");
        let id = app
            .state
            .db
            .write(move |c| {
                c.execute(
                    "INSERT INTO backups (file_name, kind, status, encrypted, created_at) VALUES (?1, 'manual', 'ok', 0, 0)",
                    [name],
                )?;
                Ok(c.last_insert_rowid())
            })
            .await
            .unwrap();
        ids.insert(k.into(), id);
    }
    // News: a category for root to edit and delete, drafts, a published article.
    let cat = app
        .query_i64("SELECT id FROM news_categories WHERE name = '通知公告'")
        .await;
    ids.insert("cat".into(), cat);
    for k in ["cat_del", "cat_del2"] {
        let body = json!({"name": k});
        ids.insert(
            k.into(),
            created(&app, &su, "/api/v1/admin/news-categories", body).await,
        );
    }
    for k in [
        "news",
        "news_del",
        "news_del2",
        "news_del3",
        "news_wd",
        "news_pub",
    ] {
        let body = json!({"org_id": a, "category_id": cat, "title": format!("工会新闻{k}"), "body_html": "<p>正文</p>"});
        ids.insert(
            k.into(),
            created(&app, &ta, "/api/v1/admin/news", body).await,
        );
    }
    for k in ["news_wd", "news_pub"] {
        let path = format!("/api/v1/admin/news/{}/publish", ids[k]);
        let r = send(&app, Method::POST, &path, Some(&ta), &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "publish {k}: {:?}", r.body);
    }
    let body = json!({"title": "通知", "content": "开会", "audience": {"member_ids": [member]}});
    ids.insert(
        "msg".into(),
        created(&app, &ta, "/api/v1/admin/messages", body).await,
    );
    ids.insert("cat_id".into(), cat);
    let claim_code =
        benefits_and_mall(&app, &ta, a, member, tokens["member"].clone(), &mut ids).await;
    tickets_and_safety(&app, &su, &tokens["member"], &mut ids).await;
    aid(&app, a1, member, &tokens["member"], &mut ids).await;
    World {
        app,
        tokens,
        holders,
        ids,
        claim_code,
    }
}

/// Benefits and the mall in county A: a published benefit with a claim by the A1 member,
/// drafts to delete, one to close, goods on the shelf and the A1 member's order. Returns the
/// claim's code.
async fn benefits_and_mall(
    app: &TestApp,
    ta: &str,
    a: i64,
    member: i64,
    mt: String,
    ids: &mut HashMap<String, i64>,
) -> String {
    let body = || {
        json!({"org_id": a, "title": "电影票", "kind": "voucher", "starts_at": "2026-01-01T00:00:00+08:00",
            "ends_at": "2035-01-01T00:00:00+08:00", "stock": 50, "per_member_limit": 2})
    };
    for k in ["benefit", "benefit_close"] {
        let id = created(app, ta, "/api/v1/admin/benefits", body()).await;
        let path = format!("/api/v1/admin/benefits/{id}/publish");
        let r = send(app, Method::POST, &path, Some(ta), &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "publish {k}: {:?}", r.body);
        ids.insert(k.into(), id);
    }
    for k in ["benefit_del", "benefit_del2", "benefit_del3"] {
        ids.insert(
            k.into(),
            created(app, ta, "/api/v1/admin/benefits", body()).await,
        );
    }
    let path = format!("/api/v1/app/benefits/{}/claims", ids["benefit"]);
    let r = send(app, Method::POST, &path, Some(&mt), &json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "claim: {:?}", r.body);
    let code = r.data()["code"].as_str().unwrap().to_string();
    ids.insert("claim".into(), r.data()["id"].as_i64().unwrap());
    let goods = json!({"org_id": a, "title": "保温杯", "points_price": 10, "stock": 20, "per_member_limit": 5, "on_shelf": true});
    ids.insert(
        "goods".into(),
        created(app, ta, "/api/v1/admin/mall/goods", goods).await,
    );
    for k in ["goods_del", "goods_del2", "goods_del3"] {
        let goods = json!({"org_id": a, "title": "雨伞", "points_price": 5, "stock": 3});
        ids.insert(
            k.into(),
            created(app, ta, "/api/v1/admin/mall/goods", goods).await,
        );
    }
    let path = format!("/api/v1/admin/members/{member}/points/adjust");
    let r = send(
        app,
        Method::POST,
        &path,
        Some(ta),
        &json!({"delta": 10, "reason": "矩阵测试"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let order = json!({"goods_id": ids["goods"]});
    ids.insert(
        "order".into(),
        created(app, &mt, "/api/v1/app/mall/orders", order).await,
    );
    code
}

/// Tickets of the A1 member (one to read and answer, one to escalate, one to resolve), held
/// messages in the moderation queue, and sensitive words for root to delete.
async fn tickets_and_safety(app: &TestApp, su: &str, mt: &str, ids: &mut HashMap<String, i64>) {
    // The seeded 劳动维权 category, whose deadline the whole tree may change.
    ids.insert("ticket_cat".into(), 1);
    for k in ["ticket", "ticket_esc", "ticket_res", "ticket_mod"] {
        let body =
            json!({"category_id": 2, "title": format!("诉求{k}"), "content": "请问工会会费怎么交"});
        ids.insert(
            k.into(),
            created(app, mt, "/api/v1/app/tickets", body).await,
        );
    }
    let path = format!("/api/v1/app/tickets/{}/messages", ids["ticket_mod"]);
    for k in ["mod_item", "mod_item2"] {
        let r = send(
            app,
            Method::POST,
            &path,
            Some(mt),
            &json!({"content": "可能有群体事件"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "held message: {:?}", r.body);
        let id = app.query_i64("SELECT max(id) FROM moderation_items").await;
        ids.insert(k.into(), id);
    }
    for k in ["word", "word2", "word3"] {
        let body = json!({"word": format!("矩阵{k}"), "level": "review"});
        ids.insert(
            k.into(),
            created(app, su, "/api/v1/admin/sensitive-words", body).await,
        );
    }
}

/// Aid in county A: the A1 member's 困难帮扶 application, submitted and moved past the
/// grassroots and county steps (so root decides it and county A has passed it), a register
/// entry of that member, and the 法律援助 type to edit.
async fn aid(app: &TestApp, a1: i64, member: i64, mt: &str, ids: &mut HashMap<String, i64>) {
    let id = created(app, mt, "/api/v1/app/aid/applications", crate::aid::form(1)).await;
    let path = format!("/api/v1/app/aid/applications/{id}/submit");
    let r = send(app, Method::POST, &path, Some(mt), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "submit: {:?}", r.body);
    let sql = "UPDATE aid_applications SET current_step = 3 WHERE id = ?1";
    insert(app, sql, vec![id]).await;
    ids.insert("aid_app".into(), id);
    let sql = "INSERT INTO aid_register (member_id, org_id, application_id, level, valid_until, created_at, updated_at) VALUES (?1, ?2, ?3, 'general', '2030-12-31', 0, 0)";
    ids.insert(
        "aid_reg".into(),
        insert(app, sql, vec![member, a1, id]).await,
    );
    let legal = app
        .query_i64("SELECT id FROM aid_types WHERE code = 'legal'")
        .await;
    ids.insert("aid_type".into(), legal);
}
