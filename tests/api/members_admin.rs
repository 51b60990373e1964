//! Staff member administration: list/detail masked, audited reveal, add, edit, transfer,
//! leave, and data scope between sibling counties.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Valid ID numbers (check digits computed per GB 11643).
const ID_A: &str = "11010519491231002X";
const ID_B: &str = "440524199001010018";

struct World {
    app: TestApp,
    admin: String,
    county_a: i64,
    grass_a1: i64,
    county_b: i64,
    /// County admin of A (role 4) plus a custom reveal role.
    ta: String,
    /// County admin of B (role 4).
    tb: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let county_a = app.create_org(&admin, root, "ca", "county").await;
    let grass_a1 = app.create_org(&admin, county_a, "ga1", "grassroots").await;
    let county_b = app.create_org(&admin, root, "cb", "county").await;
    let r = app
        .post("/api/v1/admin/roles", &admin, json!({"name": "会员查看完整信息", "permissions": ["member:read", "member:reveal"], "data_scope": "org_and_below"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let reveal_role = r.data()["id"].as_i64().unwrap();
    let (_, ta) = app
        .account_token(
            &admin,
            "county_a",
            county_a,
            &[roles::COUNTY_ADMIN, reveal_role],
        )
        .await;
    let (_, tb) = app
        .account_token(&admin, "county_b", county_b, &[roles::COUNTY_ADMIN])
        .await;
    World {
        app,
        admin,
        county_a,
        grass_a1,
        county_b,
        ta,
        tb,
    }
}

async fn add(w: &World, token: &str, name: &str, id: &str, phone: &str, org: i64) -> Value {
    let r = w
        .app
        .post("/api/v1/admin/members", token, json!({"name": name, "id_number": id, "phone": phone, "org_id": org, "work_unit": "县供电公司"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.data().clone()
}

/// A manually added member is active with a member number, and lists and details show only
/// masked phone and ID.
#[tokio::test]
async fn added_member_is_active_and_shown_masked() {
    let w = world().await;
    let m = add(&w, &w.ta, "张三", ID_A, "13812345678", w.grass_a1).await;
    assert_eq!(m["status"], "active");
    assert!(m["member_no"].as_str().unwrap().starts_with("GH"));
    assert_eq!(m["phone_masked"], "138****5678");
    assert_eq!(m["id_number_masked"], "110105**********2X");
    let list = w.app.get("/api/v1/admin/members", &w.ta).await;
    let text = list.body.to_string();
    assert!(
        !text.contains(ID_A) && !text.contains("13812345678"),
        "{text}"
    );
    assert_eq!(list.data()["total"], 1);
    let audit = w
        .app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'member.create'")
        .await;
    assert_eq!(audit, 1);
}

/// A county admin sees its own and its grassroots' members, never a sibling county's:
/// absent from the list and 404 on detail, edit, reveal, transfer and leave.
#[tokio::test]
async fn sibling_county_members_are_invisible() {
    let w = world().await;
    let a = add(&w, &w.ta, "张三", ID_A, "13812345678", w.grass_a1).await;
    let b = add(&w, &w.tb, "李四", ID_B, "13912345678", w.county_b).await;
    let (aid, bid) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    let list = w.app.get("/api/v1/admin/members", &w.ta).await;
    let ids: Vec<i64> = list.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![aid]);
    for (method, path, body) in [
        ("GET", format!("/api/v1/admin/members/{bid}"), None),
        (
            "PATCH",
            format!("/api/v1/admin/members/{bid}"),
            Some(json!({"work_unit": "x"})),
        ),
        (
            "POST",
            format!("/api/v1/admin/members/{bid}/reveal"),
            Some(json!({"field": "id_number"})),
        ),
        (
            "POST",
            format!("/api/v1/admin/members/{bid}/transfer"),
            Some(json!({"org_id": w.county_a})),
        ),
        ("POST", format!("/api/v1/admin/members/{bid}/leave"), None),
    ] {
        let r = w
            .app
            .call(method.parse().unwrap(), &path, Some(&w.ta), body)
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            r.body
        );
    }
    // Moving one's own member into the sibling county is refused like a missing org.
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{aid}/transfer"),
            &w.ta,
            json!({"org_id": w.county_b}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let org: i64 = w
        .app
        .state
        .db
        .read(move |c| {
            Ok(
                c.query_row("SELECT org_id FROM members WHERE id = ?1", [aid], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .unwrap();
    assert_eq!(org, w.grass_a1);
}

/// Revealing needs `member:reveal`, returns the plain value and writes an audit row; without
/// the permission it is 403 and nothing is recorded.
#[tokio::test]
async fn reveal_needs_permission_and_is_audited() {
    let w = world().await;
    let b = add(&w, &w.tb, "李四", ID_B, "13912345678", w.county_b).await;
    let bid = b["id"].as_i64().unwrap();
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{bid}/reveal"),
            &w.tb,
            json!({"field": "id_number"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{bid}/reveal"),
            &w.admin,
            json!({"field": "id_number"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["value"], ID_B);
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{bid}/reveal"),
            &w.admin,
            json!({"field": "phone"}),
        )
        .await;
    assert_eq!(r.data()["value"], "13912345678");
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{bid}/reveal"),
            &w.admin,
            json!({"field": "password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let n = w
        .app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'member.reveal'")
        .await;
    assert_eq!(n, 2);
    let leaked = w
        .app
        .query_i64("SELECT count(*) FROM audit_logs WHERE summary LIKE '%440524199001010018%'")
        .await;
    assert_eq!(leaked, 0, "audit rows never hold the plain value");
}

/// Bad input to a manual add reports every field and stores nothing; a duplicate ID is 409.
#[tokio::test]
async fn bad_manual_add_stores_nothing() {
    let w = world().await;
    let r = w
        .app
        .post("/api/v1/admin/members", &w.ta, json!({"name": "x", "id_number": "110105194912310021", "phone": "123", "org_id": w.county_a, "work_unit": ""}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let f = r.body["error"]["fields"].as_object().unwrap();
    for k in ["name", "id_number", "phone", "work_unit"] {
        assert!(f.contains_key(k), "{k}: {f:?}");
    }
    add(&w, &w.ta, "张三", ID_A, "13812345678", w.county_a).await;
    let r = w
        .app
        .post(
            "/api/v1/admin/members",
            &w.tb,
            json!({"name": "王五", "id_number": ID_A, "org_id": w.county_b, "work_unit": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "id_number_taken");
    assert_eq!(w.app.query_i64("SELECT count(*) FROM members").await, 1);
}

/// Search by name, member number and phone last 4; transfer within scope; leaving.
#[tokio::test]
async fn search_transfer_and_leave() {
    let w = world().await;
    let m = add(&w, &w.ta, "张三", ID_A, "13812345678", w.county_a).await;
    let id = m["id"].as_i64().unwrap();
    let no = m["member_no"].as_str().unwrap().to_string();
    for q in ["张", no.as_str(), "5678"] {
        let r = w
            .app
            .get(&format!("/api/v1/admin/members?q={}", urlencode(q)), &w.ta)
            .await;
        assert_eq!(r.data()["total"], 1, "q={q}");
    }
    let r = w.app.get("/api/v1/admin/members?q=9999", &w.ta).await;
    assert_eq!(r.data()["total"], 0);
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{id}/transfer"),
            &w.ta,
            json!({"org_id": w.grass_a1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["org_id"], w.grass_a1);
    let r = w
        .app
        .patch(
            &format!("/api/v1/admin/members/{id}"),
            &w.ta,
            json!({"job_title": "班组长"}),
        )
        .await;
    assert_eq!(r.data()["job_title"], "班组长");
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{id}/leave"),
            &w.ta,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "left");
    let r = w
        .app
        .post(
            &format!("/api/v1/admin/members/{id}/leave"),
            &w.ta,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = w.app.get("/api/v1/admin/members?status=bogus", &w.ta).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // An org with members cannot be deleted.
    let r = w
        .app
        .delete(&format!("/api/v1/admin/orgs/{}", w.grass_a1), &w.admin)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
