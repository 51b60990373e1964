//! Hardening tests (issue 17): personal data — items 2, 6, 7, 8, 10 and 22.

mod answers;
mod erasure;
mod erasure_s3;
mod identity;
mod masking;
mod realname;

use crate::members_app::fake::{id_number, num, post_anon, seed_sms_code, text};
use crate::support::*;
use calamine::{Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Zhang: male, born 1990-03-07, region 110105.
pub fn zhang_id() -> String {
    id_number("11010519900307123")
}

/// Staff create an active member (name 张三丰) in `org`; returns (member id, member_no).
pub async fn staff_member(app: &TestApp, token: &str, org: i64, idn: &str, phone: &str) -> i64 {
    let body = json!({"name": "张三丰", "id_number": idn, "phone": phone, "org_id": org, "work_unit": "县供电公司"});
    let r = app.post("/api/v1/admin/members", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Log in by SMS as `phone`; returns the login response.
pub async fn sms_login(app: &TestApp, phone: &str) -> Resp {
    seed_sms_code(app, phone, "135790", 300).await;
    let body = json!({"phone": phone, "code": "135790"});
    post_anon(app, "/api/v1/app/auth/sms/login", body).await
}

/// GET a binary body.
pub async fn download(app: &TestApp, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

/// Every cell of the first sheet as text.
pub fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// True when `needle` appears anywhere in the JSON text of `v`.
pub fn mentions(v: &Value, needle: &str) -> bool {
    v.to_string().contains(needle)
}

/// Record the separate sensitive-data consent for members by SQL.
pub async fn consent_all(app: &TestApp, ids: Vec<i64>) {
    app.state
        .db
        .write(move |c| {
            for id in &ids {
                c.execute(
                    "INSERT INTO member_consents (member_id, kind, version, at) VALUES (?1, 'sensitive', '2026-01', 1)",
                    [id],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}
