//! The member client as the binary serves it: the H5 build under `/h5/`, the mini-program
//! package for the office, and the two small member routes the client needs (org search for
//! the membership application, template ids for the subscription prompt).

use crate::members_app::fake::sms_member;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::io::Read;

const PACKAGE: &str = "/api/v1/admin/miniprogram/package";

async fn raw(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    encoding: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(e) = encoding {
        req = req.header("accept-encoding", e);
    }
    req.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Without an AppID or a public address the package is refused with 409 and a Chinese reason,
/// and nothing is audited.
#[tokio::test]
async fn package_needs_appid_and_public_url() {
    let app = spawn_with(|c| c.public_base_url = "https://gh.example.test".into()).await;
    let admin = app.admin_token().await;
    let r = app.get(PACKAGE, &admin).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "miniprogram_not_configured");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AppID"),
        "{:?}",
        r.body
    );

    let app = spawn_with(|c| c.wechat.appid = "wx0123456789abcdef".into()).await;
    let admin = app.admin_token().await;
    let r = app.get(PACKAGE, &admin).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("对外访问地址"),
        "{:?}",
        r.body
    );
    let audited = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'miniprogram.package'")
        .await;
    assert_eq!(audited, 0);
}

/// The zip is the mini-program build with this office's AppID in project.config.json and its
/// public address in the API client; every page of app.json is in it; the download is audited
/// and refused to a county admin (the package is the whole installation's).
#[tokio::test]
async fn package_carries_appid_and_api_address() {
    let app = spawn_with(|c| {
        c.wechat.appid = "wx0123456789abcdef".into();
        c.public_base_url = "https://gh.example.test/".into();
    })
    .await;
    let admin = app.admin_token().await;
    let r = raw(&app, PACKAGE, Some(&admin), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/zip");
    assert!(header(&r, "content-disposition").starts_with("attachment;"));
    assert_eq!(header(&r, "cache-control"), "private, no-store");
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name)
            .unwrap_or_else(|_| panic!("{name} in the zip"))
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let project: serde_json::Value = serde_json::from_str(&read("project.config.json")).unwrap();
    assert_eq!(project["appid"], "wx0123456789abcdef");
    assert_eq!(project["compileType"], "miniprogram");
    let client = read("api/client.js");
    assert!(
        client.contains("https://gh.example.test"),
        "address written in"
    );
    assert!(
        !client.contains("gh.example.test/\""),
        "trailing slash dropped"
    );
    let app_json: serde_json::Value = serde_json::from_str(&read("app.json")).unwrap();
    let pages = app_json["pages"].as_array().unwrap();
    assert!(pages.len() >= 14, "{pages:?}");
    for p in pages {
        let p = p.as_str().unwrap();
        for ext in ["js", "json", "wxml"] {
            read(&format!("{p}.{ext}"));
        }
    }
    // No file keeps the placeholder.
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        assert!(
            !String::from_utf8_lossy(&buf).contains("@@GONGHUI_API_BASE@@"),
            "placeholder left in file {i}"
        );
    }
    let summary = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'miniprogram.package' AND summary LIKE '%wx0123456789abcdef%'")
        .await;
    assert_eq!(summary, 1);

    let root = app.root_org().await;
    let county = app.create_org(&admin, root, "mp-county", "county").await;
    let (_, county_admin) = app
        .account_token(&admin, "mpcounty", county, &[roles::COUNTY_ADMIN])
        .await;
    let r = app.get(PACKAGE, &county_admin).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = app.get(PACKAGE, &app.app_token()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// `/h5/` serves the member client like `/admin/`: index no-cache with the strict CSP, hashed
/// assets immutable and precompressed, deep links get the app, missing files are 404.
#[tokio::test]
async fn h5_is_served_with_fallback_caching_and_csp() {
    let app = spawn_app().await;
    let r = raw(&app, "/h5/", None, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "cache-control"), "no-cache");
    assert!(header(&r, "content-type").starts_with("text/html"));
    let csp = header(&r, "content-security-policy");
    let script = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(
        !script.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "inline script in index.html");
    let start = html.find("/h5/assets/index-").expect("entry script");
    let entry = &html[start..start + html[start..].find('"').unwrap()];

    // A deep link (history routing) gets the same app.
    let r = raw(&app, "/h5/pages/news/detail?id=3", None, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), html);

    let r = raw(&app, entry, None, Some("br, gzip")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&r, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&r, "content-encoding"), "br");

    let r = raw(&app, "/h5/assets/missing-123.js", None, None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = app
        .client
        .get(format!("{}/h5", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/h5/", "/h5 redirects to the app");
    // The admin UI is still where it was.
    let r = raw(&app, "/admin/", None, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("/admin/assets/"));
}

/// The application form's org search: by part of the name, paged, bounded, members only.
#[tokio::test]
async fn org_search_for_the_application() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let county = app.create_org(&admin, root, "search-cty", "county").await;
    for code in ["search-a", "search-b", "other-c"] {
        app.create_org(&admin, county, code, "grassroots").await;
    }
    let (_, member) = sms_member(&app, "13800138111").await;
    let r = app
        .get("/api/v1/app/orgs?q=search-&page_size=1", &member)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // The county's name matches too; grassroots unions come first.
    assert_eq!(r.data()["total"], 3, "{:?}", r.body);
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "组织search-a");
    assert_eq!(items[0].as_object().unwrap().len(), 2, "id and name only");
    // `%` is a literal character, not a wildcard.
    let r = app.get("/api/v1/app/orgs?q=%25", &member).await;
    assert_eq!(r.data()["total"], 0, "{:?}", r.body);
    let r = app.get("/api/v1/app/orgs?page_size=101", &member).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let long = "长".repeat(51);
    let r = app
        .get(&format!("/api/v1/app/orgs?q={long}"), &member)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["q"].is_string(), "{:?}", r.body);
    let r = app.get("/api/v1/app/orgs", &admin).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "staff token on a member route"
    );

    // Once the application is pending, the member sees only the org applied to.
    let (_, applicant) = crate::members_app::fake::verified_member(
        &app,
        "13800138113",
        "李四",
        &crate::members_app::fake::id_number("11010519800101001"),
    )
    .await;
    let a = items[0]["id"].as_i64().unwrap();
    let body = json!({"org_id": a, "work_unit": "某单位"});
    let r = app
        .post("/api/v1/app/membership/applications", &applicant, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app.get("/api/v1/app/orgs", &applicant).await;
    assert_eq!(r.data()["total"], 1, "{:?}", r.body);
    assert_eq!(r.data()["items"][0]["id"], a);
}

/// The client reads the configured template ids (ids only) for WeChat's subscription prompt.
#[tokio::test]
async fn subscription_template_ids_for_the_client() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, member) = sms_member(&app, "13800138112").await;
    let r = app
        .get("/api/v1/app/subscriptions/templates", &member)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["items"], json!([]));
    let tpl = json!({"activity.approved": {"template_id": "TPL_A", "data": {"thing1": "title"}}});
    let r = app
        .put("/api/v1/admin/settings/subscription-templates", &admin, tpl)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .get("/api/v1/app/subscriptions/templates", &member)
        .await;
    assert_eq!(
        r.data()["items"],
        json!([{"event": "activity.approved", "template_id": "TPL_A"}])
    );
}
