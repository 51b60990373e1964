//! Member spreadsheets: the import template, xlsx import as a job with per-row errors, and
//! the export (masked unless the exporter may reveal, in scope only, formulas neutralised,
//! audited).

use crate::support::*;
use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const HEADERS: [&str; 6] = [
    "姓名",
    "身份证号",
    "手机号",
    "所属组织编码",
    "工作单位",
    "职务",
];

/// A valid ID number from 17 digits (check digit computed per GB 11643).
fn id(first17: &str) -> String {
    let check = gonghui::members::idcard::check_char(first17).unwrap();
    format!("{first17}{check}")
}

/// The same number with a wrong check digit.
fn bad_checksum(first17: &str) -> String {
    let good = gonghui::members::idcard::check_char(first17).unwrap();
    let wrong = if good == '1' { '2' } else { '1' };
    format!("{first17}{wrong}")
}

/// An xlsx with the template header and `rows` (all cells written as text).
fn sheet(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// Every cell of the first sheet as text.
fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// The whole database (file and WAL), to prove a value is not stored in plaintext.
fn db_bytes(app: &TestApp) -> Vec<u8> {
    let mut out = std::fs::read(app.dir.path().join("gonghui.db")).unwrap();
    if let Ok(wal) = std::fs::read(app.dir.path().join("gonghui.db-wal")) {
        out.extend(wal);
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

struct World {
    app: TestApp,
    admin: String,
    county_a: i64,
    grass_a1: i64,
    county_b: i64,
    /// County admin of A (role 4: import and export, no reveal).
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
    let (_, ta) = app
        .account_token(&admin, "county_a", county_a, &[roles::COUNTY_ADMIN])
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

/// Upload `bytes` as the import file under `file_name`.
async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, file_name: &str) -> Resp {
    let form = Form::new().text("purpose", "import").part(
        "file",
        Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str(XLSX)
            .unwrap(),
    );
    let r = app
        .client
        .post(format!("{}/api/v1/admin/members/import", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    TestApp::read(r).await
}

/// Poll a job until it is no longer running.
async fn finished(app: &TestApp, token: &str, job_id: i64) -> Value {
    for _ in 0..200 {
        let r = app
            .get(&format!("/api/v1/admin/members/import/{job_id}"), token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        if r.data()["status"] != "running" {
            return r.data().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("import job {job_id} did not finish");
}

/// Import and wait for the job's result.
async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> Value {
    let r = upload(app, token, bytes, "会员.xlsx").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.data()["status"], "running");
    finished(app, token, r.data()["job_id"].as_i64().unwrap()).await
}

/// Download a spreadsheet route and return it with its headers.
async fn download(
    app: &TestApp,
    path: &str,
    token: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// The template is an xlsx with the six Chinese columns and one example row carrying the
/// caller's org code; it downloads with a UTF-8 file name and an ASCII fallback. Imported
/// unchanged, its example row is refused rather than stored.
#[tokio::test]
async fn template_downloads_and_parses() {
    let w = world().await;
    let (status, headers, bytes) =
        download(&w.app, "/api/v1/admin/members/import-template", &w.ta).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], XLSX);
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(
        cd.contains("filename=\"member-import-template.xlsx\""),
        "{cd}"
    );
    assert!(
        cd.contains("filename*=UTF-8''%E4%BC%9A%E5%91%98%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"),
        "{cd}"
    );
    let rows = cells(&bytes);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], HEADERS);
    assert_eq!(rows[1][0], "张三");
    assert_eq!(rows[1][3], "ca");
    let job = import(&w.app, &w.ta, bytes).await;
    assert_eq!(job["imported"], 0);
    assert_eq!(
        job["errors"],
        json!([{"row": 2, "field": "id_number", "message": "这是模板中的示例行，请删除后再导入"}])
    );
    // Without member:import the template is forbidden too.
    let (_, clerk) = w
        .app
        .account_token(&w.admin, "clerk", w.grass_a1, &[roles::GRASSROOTS_CLERK])
        .await;
    let (status, _, _) = download(&w.app, "/api/v1/admin/members/import-template", &clerk).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Good rows are stored as active members with a member number and an encrypted ID; every
/// bad row is reported with its spreadsheet row, field and Chinese reason; the job reports
/// progress, belongs to its starter and is audited with counts only.
#[tokio::test]
async fn import_keeps_good_rows_and_reports_each_bad_row() {
    let w = world().await;
    let existing = id("44052419900101001");
    let r = w
        .app
        .post("/api/v1/admin/members", &w.admin, json!({"name": "钱一", "id_number": existing, "org_id": w.county_a, "work_unit": "县供电公司"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let (good1, good2) = (id("32010219850315123"), id("51010719921108456"));
    let bad = bad_checksum("33010619780620789");
    let (id3, id4) = (id("11010819800101234"), id("11010819800101456"));
    let bytes = sheet(&[
        ["王小明", &good1, "13800000001", "ga1", "县供电公司", "职工"], // 2: good
        ["李四", &bad, "", "ca", "县供电公司", ""],                     // 3: bad checksum
        ["", &id3, "", "ca", "县供电公司", ""],                         // 4: no name
        ["赵六", &id4, "", "cb", "县供电公司", ""],                     // 5: sibling county's org
        ["孙七", &good1, "", "ca", "县供电公司", ""],                   // 6: same ID as row 2
        ["周八", &existing, "", "ca", "县供电公司", ""],                // 7: ID already a member
        ["吴九", &good2, "", "ca", "县水务局", ""],                     // 8: good, no phone
        ["郑十", &id("11010819800101678"), "", "nope", "县水务局", ""], // 9: unknown org code
    ]);
    let r = upload(&w.app, &w.ta, bytes, "members.xlsx").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let job_id = r.data()["job_id"].as_i64().unwrap();
    assert_eq!(r.data()["total"], 8);
    let job = finished(&w.app, &w.ta, job_id).await;
    assert_eq!(job["status"], "done");
    assert_eq!(
        (job["total"].as_i64(), job["processed"].as_i64()),
        (Some(8), Some(8))
    );
    assert_eq!(
        (job["imported"].as_i64(), job["failed"].as_i64()),
        (Some(2), Some(6))
    );
    assert_eq!(job["errors_truncated"], false);
    let scope_msg = "组织编码不存在或不在您的管理范围内";
    assert_eq!(
        job["errors"],
        json!([
            {"row": 3, "field": "id_number", "message": "身份证号码校验位不正确，请核对后重新输入"},
            {"row": 4, "field": "name", "message": "请填写姓名"},
            {"row": 5, "field": "org_code", "message": scope_msg},
            {"row": 6, "field": "id_number", "message": "身份证号与第 2 行重复"},
            {"row": 7, "field": "id_number", "message": "该身份证号已登记为其他会员"},
            {"row": 9, "field": "org_code", "message": scope_msg},
        ])
    );

    // The good rows are active members in the right orgs, with member numbers.
    let stored: Vec<(String, String, i64, String, Option<String>, String)> = w
        .app
        .state
        .db
        .read(|c| {
            let mut s = c.prepare(
                "SELECT real_name, status, org_id, member_no, phone_masked, id_masked FROM members
                 WHERE real_name IN ('王小明', '吴九') ORDER BY id",
            )?;
            let rows = s.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!((stored[0].1.as_str(), stored[0].2), ("active", w.grass_a1));
    assert_eq!((stored[1].1.as_str(), stored[1].2), ("active", w.county_a));
    assert!(stored.iter().all(|m| m.3.starts_with("GH")));
    assert_eq!(stored[0].4.as_deref(), Some("138****0001"));
    assert_eq!(
        stored[0].5,
        format!("{}**********{}", &good1[..6], &good1[16..])
    );
    let rejected = w.app.query_i64("SELECT count(*) FROM members WHERE real_name IN ('李四', '赵六', '孙七', '周八', '郑十')").await;
    assert_eq!(rejected, 0);
    assert_eq!(w.app.query_i64("SELECT count(*) FROM members").await, 3);
    // The ID numbers are encrypted: no plaintext anywhere in the database file.
    let db = db_bytes(&w.app);
    for plain in [&good1, &good2, "13800000001"] {
        assert!(!contains(&db, plain), "{plain} stored in plaintext");
    }
    // The imported members are listed like any other.
    let list = w.app.get("/api/v1/admin/members?q=王小明", &w.ta).await;
    assert_eq!(list.data()["total"], 1);

    // Audited once, with counts and no personal values.
    let summary: String = w
        .app
        .state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT summary FROM audit_logs WHERE action = 'member.import'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary, json!({"total": 8, "imported": 2, "failed": 6}));
    let leaked = w.app.query_i64("SELECT count(*) FROM audit_logs WHERE summary LIKE '%王小明%' OR summary LIKE '%3201021985%'").await;
    assert_eq!(leaked, 0);

    // The job belongs to its starter: another admin, even the super admin, gets 404.
    for token in [&w.tb, &w.admin] {
        let r = w
            .app
            .get(&format!("/api/v1/admin/members/import/{job_id}"), token)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    let r = w
        .app
        .get("/api/v1/admin/members/import/999999", &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Importing the same file again stores nothing new: every ID is now taken.
    let again = import(
        &w.app,
        &w.ta,
        sheet(&[["王小明", &good1, "", "ga1", "县供电公司", ""]]),
    )
    .await;
    assert_eq!(again["imported"], 0);
    assert_eq!(
        again["errors"],
        json!([{"row": 2, "field": "id_number", "message": "该身份证号已登记为其他会员"}])
    );
}

/// A phone or ID already held by a member refuses that row with its own message, while a
/// phone and an ID left by an erased account are free again; nothing of the refused row is
/// stored.
#[tokio::test]
async fn phones_and_ids_of_members_are_taken_and_those_of_erased_accounts_are_free() {
    let w = world().await;
    let first = import(
        &w.app,
        &w.ta,
        sheet(&[
            [
                "钱一",
                &id("44052419900101001"),
                "13800000011",
                "ga1",
                "县供电公司",
                "",
            ],
            [
                "钱二",
                &id("44052419900101002"),
                "13800000012",
                "ga1",
                "县供电公司",
                "",
            ],
        ]),
    )
    .await;
    assert_eq!(first["imported"], 2, "{first}");
    // Erase the second member as account deletion does: blind indexes cleared.
    w.app
        .state
        .db
        .write(|c| {
            let id: i64 = c.query_row(
                "SELECT id FROM members WHERE real_name = '钱二'",
                [],
                |r| r.get(0),
            )?;
            gonghui::members::profile::erase(c, id)
        })
        .await
        .unwrap();
    let before = w.app.query_i64("SELECT count(*) FROM members").await;
    let job = import(
        &w.app,
        &w.ta,
        sheet(&[
            [
                "孙三",
                &id("44052419900101003"),
                "13800000011",
                "ga1",
                "县供电公司",
                "",
            ], // 2: phone taken
            [
                "钱二",
                &id("44052419900101002"),
                "13800000012",
                "ga1",
                "县供电公司",
                "",
            ], // 3: erased: free
        ]),
    )
    .await;
    assert_eq!(
        job["errors"],
        json!([{"row": 2, "field": "phone", "message": "该手机号已被其他会员使用"}]),
        "{job}"
    );
    assert_eq!(
        (job["imported"].as_i64(), job["failed"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        w.app.query_i64("SELECT count(*) FROM members").await,
        before + 1
    );
    assert_eq!(
        w.app
            .query_i64("SELECT count(*) FROM members WHERE real_name = '孙三'")
            .await,
        0
    );
}

/// A file whose bytes are not xlsx is refused with 415 whatever its name, and nothing is
/// stored (no job, no member); a sheet without the required columns is a 400.
#[tokio::test]
async fn non_xlsx_files_are_refused_and_nothing_is_stored() {
    let w = world().await;
    let png = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0,
        0, 0, 1,
    ];
    let text =
        "姓名,身份证号,手机号,所属组织编码,工作单位,职务\n王小明,11010519491231002X,,ca,单位,\n"
            .as_bytes()
            .to_vec();
    for (bytes, name) in [(png, "members.xlsx"), (text, "members.xlsx")] {
        let r = upload(&w.app, &w.ta, bytes, name).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{:?}", r.body);
        assert_eq!(r.code(), "unsupported_media_type");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("xlsx"),
            "{:?}",
            r.body
        );
    }
    // A real xlsx that is not laid out like the template.
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "随便什么").unwrap();
    let r = upload(&w.app, &w.ta, wb.save_to_buffer().unwrap(), "x.xlsx").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(
        r.body["error"]["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("缺少必填列：姓名、身份证号、所属组织编码、工作单位"),
        "{:?}",
        r.body
    );
    // A form without a file, and a body that is not multipart at all.
    let r = w
        .app
        .client
        .post(format!("{}/api/v1/admin/members/import", w.app.base))
        .bearer_auth(&w.ta)
        .multipart(Form::new().text("purpose", "import"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = w
        .app
        .post("/api/v1/admin/members/import", &w.ta, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        w.app
            .query_i64("SELECT count(*) FROM member_import_jobs")
            .await,
        0
    );
    assert_eq!(w.app.query_i64("SELECT count(*) FROM members").await, 0);
    assert_eq!(
        w.app
            .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'member.import'")
            .await,
        0
    );
    // Without member:import the upload is forbidden before anything is read.
    let (_, clerk) = w
        .app
        .account_token(&w.admin, "clerk", w.grass_a1, &[roles::GRASSROOTS_CLERK])
        .await;
    let r = upload(&w.app, &clerk, sheet(&[]), "x.xlsx").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// More than one chunk of rows imports completely and the counters add up.
#[tokio::test]
async fn a_large_file_is_imported_in_chunks() {
    let w = world().await;
    let ids: Vec<String> = (0..1203)
        .map(|i| id(&format!("110108198001{:02}{:03}", 1 + i / 1000, i % 1000)))
        .collect();
    let rows: Vec<[&str; 6]> = ids
        .iter()
        .map(|i| ["王小明", i.as_str(), "", "ca", "县供电公司", ""])
        .collect();
    let job = import(&w.app, &w.ta, sheet(&rows)).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        (
            job["total"].as_i64(),
            job["processed"].as_i64(),
            job["imported"].as_i64()
        ),
        (Some(1203), Some(1203), Some(1203))
    );
    assert_eq!(
        w.app
            .query_i64("SELECT count(DISTINCT member_no) FROM members WHERE status = 'active'")
            .await,
        1203
    );
}

/// The export holds only members in the caller's scope; phone and ID are masked for a county
/// admin without `member:reveal` and plain for the super admin; a cell that would start a
/// formula is neutralised; each export is audited with its count and whether it revealed.
#[tokio::test]
async fn export_is_scoped_masked_neutralised_and_audited() {
    let w = world().await;
    let (ida, idb) = (id("32010219850315123"), id("51010719921108456"));
    for (token, name, idn, phone, org, unit) in [
        (
            &w.ta,
            "王小明",
            &ida,
            "13800000001",
            w.grass_a1,
            "=HYPERLINK(\"http://x\")",
        ),
        (&w.tb, "李四", &idb, "13900000002", w.county_b, "县水务局"),
    ] {
        let r = w
            .app
            .post("/api/v1/admin/members", token, json!({"name": name, "id_number": idn, "phone": phone, "org_id": org, "work_unit": unit, "job_title": "@SUM(1)"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    // Names are validated on input; this stands for a hostile value already in the data.
    w.app
        .state
        .db
        .write(|c| {
            Ok(c.execute(
                "UPDATE members SET real_name = '=cmd|'' /C calc''!A0' WHERE real_name = '王小明'",
                [],
            )?)
        })
        .await
        .unwrap();

    let (status, headers, bytes) = download(&w.app, "/api/v1/admin/members/export", &w.ta).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], XLSX);
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.contains("filename=\"members-")
            && cd.contains("filename*=UTF-8''%E4%BC%9A%E5%91%98%E5%90%8D%E5%8D%95-"),
        "{cd}"
    );
    let rows = cells(&bytes);
    assert_eq!(rows.len(), 2, "only county A's member: {rows:?}");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let a = &rows[1];
    assert_eq!(a[col("姓名")], "'=cmd|' /C calc'!A0");
    assert_eq!(a[col("工作单位")], "'=HYPERLINK(\"http://x\")");
    assert_eq!(a[col("职务")], "'@SUM(1)");
    assert_eq!(a[col("手机号")], "138****0001");
    assert_eq!(
        a[col("身份证号")],
        format!("{}**********{}", &ida[..6], &ida[16..])
    );
    assert_eq!(a[col("所属组织编码")], "ga1");
    assert_eq!(a[col("状态")], "在册");
    let text = rows.concat().concat();
    assert!(
        !text.contains("李四") && !text.contains(&idb[..6]),
        "sibling county leaked: {text}"
    );
    assert!(!text.contains(&ida) && !text.contains("13800000001"));

    // The super admin may reveal: plain phone and ID, both counties.
    let (status, _, bytes) = download(&w.app, "/api/v1/admin/members/export", &w.admin).await;
    assert_eq!(status, StatusCode::OK);
    let rows = cells(&bytes);
    assert_eq!(rows.len(), 3);
    let text = rows.concat().concat();
    for plain in [ida.as_str(), idb.as_str(), "13800000001", "13900000002"] {
        assert!(text.contains(plain), "{plain} missing: {text}");
    }
    // Filters narrow the export; a bad filter is a 400.
    let (_, _, bytes) = download(
        &w.app,
        &format!("/api/v1/admin/members/export?org_id={}", w.county_b),
        &w.admin,
    )
    .await;
    assert_eq!(cells(&bytes).len(), 2);
    let (_, _, bytes) = download(
        &w.app,
        &format!("/api/v1/admin/members/export?org_id={}", w.county_b),
        &w.ta,
    )
    .await;
    assert_eq!(
        cells(&bytes).len(),
        1,
        "another county's org filter yields nothing"
    );
    let r = w
        .app
        .get("/api/v1/admin/members/export?status=bogus", &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let audits: Vec<String> = w
        .app
        .state
        .db
        .read(|c| {
            let mut s = c.prepare(
                "SELECT summary FROM audit_logs WHERE action = 'member.export' ORDER BY id",
            )?;
            let rows = s.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .unwrap();
    assert_eq!(audits.len(), 4, "{audits:?}");
    let first: Value = serde_json::from_str(&audits[0]).unwrap();
    let second: Value = serde_json::from_str(&audits[1]).unwrap();
    assert_eq!(
        (first["count"].as_i64(), first["revealed"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(
        (second["count"].as_i64(), second["revealed"].as_bool()),
        (Some(2), Some(true))
    );
    assert!(!audits.concat().contains(&ida));

    // A county admin granted member:reveal sees its own members unmasked.
    let r = w
        .app
        .post("/api/v1/admin/roles", &w.admin, json!({"name": "查看完整信息", "permissions": ["member:reveal"], "data_scope": "org_and_below"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let reveal = r.data()["id"].as_i64().unwrap();
    let (_, ta2) = w
        .app
        .account_token(
            &w.admin,
            "county_a2",
            w.county_a,
            &[roles::COUNTY_ADMIN, reveal],
        )
        .await;
    let (_, _, bytes) = download(&w.app, "/api/v1/admin/members/export", &ta2).await;
    let rows = cells(&bytes);
    assert_eq!(rows.len(), 2);
    assert!(rows[1].contains(&ida), "{rows:?}");
    // Export needs member:export.
    let (_, clerk) = w
        .app
        .account_token(&w.admin, "clerk", w.grass_a1, &[roles::GRASSROOTS_CLERK])
        .await;
    let r = w.app.get("/api/v1/admin/members/export", &clerk).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// A job of the root admin left `running` (as a process that died mid-import leaves it).
async fn running_job(app: &TestApp) -> i64 {
    let admin_id = app
        .query_i64("SELECT id FROM admins WHERE username = 'admin'")
        .await;
    app.state
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO member_import_jobs (admin_id, total, created_at, updated_at) VALUES (?1, 10, ?2, ?2)",
                rusqlite::params![admin_id, gonghui::time::now()],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
        .unwrap()
}

/// One running import per account: a second upload is `409 import_running` while the first
/// runs; a job cut off by a restart (not updated for 10 minutes) reads as failed and no
/// longer blocks.
#[tokio::test]
async fn a_running_import_blocks_another_and_a_stale_one_reads_as_failed() {
    let w = world().await;
    let job_id = running_job(&w.app).await;
    let good = id("32010219850315123");
    let file = || sheet(&[["王小明", &good, "", "ca", "县供电公司", ""]]);
    let r = upload(&w.app, &w.admin, file(), "x.xlsx").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "import_running");
    // Another account is not blocked by it.
    let other = id("51010719921108456");
    let job = import(
        &w.app,
        &w.ta,
        sheet(&[["吴九", &other, "", "ca", "县水务局", ""]]),
    )
    .await;
    assert_eq!(job["imported"], 1, "{job}");
    w.app
        .state
        .db
        .write(|c| {
            Ok(c.execute(
                "UPDATE member_import_jobs SET updated_at = updated_at - 3600",
                [],
            )?)
        })
        .await
        .unwrap();
    let r = w
        .app
        .get(&format!("/api/v1/admin/members/import/{job_id}"), &w.admin)
        .await;
    assert_eq!(r.data()["status"], "failed");
    assert!(
        r.data()["message"].as_str().unwrap().contains("中断"),
        "{:?}",
        r.body
    );
    let job = import(&w.app, &w.admin, file()).await;
    assert_eq!(job["status"], "done");
}

/// A job cut off by a restart is failed when the server starts again (not ten minutes later),
/// so its account can import again at once; a finished job is left as it is.
#[tokio::test]
async fn a_restart_fails_the_imports_it_cut_off() {
    let w = world().await;
    let good = id("32010219850315123");
    let done = import(
        &w.app,
        &w.admin,
        sheet(&[["王小明", &good, "", "ca", "县供电公司", ""]]),
    )
    .await;
    let cut = running_job(&w.app).await;
    // What serve_on runs before it accepts a connection.
    let n = gonghui::members::xlsx_import::fail_interrupted(&w.app.state)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let r = w
        .app
        .get(&format!("/api/v1/admin/members/import/{cut}"), &w.admin)
        .await;
    assert_eq!(r.data()["status"], "failed", "{:?}", r.body);
    assert!(r.data()["message"].as_str().unwrap().contains("中断"));
    assert!(r.data()["finished_at"].is_string(), "{:?}", r.body);
    let r = w
        .app
        .get(
            &format!("/api/v1/admin/members/import/{}", done["job_id"]),
            &w.admin,
        )
        .await;
    assert_eq!(r.data()["status"], "done");
    let other = id("51010719921108456");
    let job = import(
        &w.app,
        &w.admin,
        sheet(&[["吴九", &other, "", "ca", "县水务局", ""]]),
    )
    .await;
    assert_eq!(job["status"], "done", "{job}");
}

/// The spreadsheet routes are in the OpenAPI document.
#[tokio::test]
async fn spreadsheet_routes_are_documented() {
    let app = spawn_app().await;
    let r = app
        .call(reqwest::Method::GET, "/api/openapi.json", None, None)
        .await;
    let paths = &r.body["paths"];
    assert!(paths["/api/v1/admin/members/import"]["post"]["responses"]["202"].is_object());
    assert!(paths["/api/v1/admin/members/import/{job_id}"]["get"].is_object());
    assert!(paths["/api/v1/admin/members/import-template"]["get"].is_object());
    assert!(paths["/api/v1/admin/members/export"]["get"].is_object());
    assert!(r.body["components"]["schemas"]["ImportJob"].is_object());
}

/// A finished import stays in the account's import history, and its failed rows download as
/// xlsx naming each row, the column header and the reason; another account's job is 404.
#[tokio::test]
async fn import_history_lists_jobs_and_failed_rows_download_as_xlsx() {
    let w = world().await;
    let good = id("32010219850315123");
    let bad = bad_checksum("33010619780620789");
    let bytes = sheet(&[
        ["王小明", &good, "", "ga1", "县供电公司", ""],
        ["李四", &bad, "", "ca", "县供电公司", ""],
        ["赵六", &id("11010819800101456"), "", "nope", "县水务局", ""],
    ]);
    let job = import(&w.app, &w.ta, bytes).await;
    let job_id = job["job_id"].as_i64().unwrap();
    let r = w.app.get("/api/v1/admin/members/import-jobs", &w.ta).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["total"], 1);
    let item = &r.data()["items"][0];
    assert_eq!(
        (
            &item["job_id"],
            &item["status"],
            &item["imported"],
            &item["failed"]
        ),
        (&json!(job_id), &json!("done"), &json!(1), &json!(2))
    );
    let other = w.app.get("/api/v1/admin/members/import-jobs", &w.tb).await;
    assert_eq!(other.data()["total"], 0);
    let path = format!("/api/v1/admin/members/import/{job_id}/errors");
    let (status, headers, body) = download(&w.app, &path, &w.ta).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], XLSX);
    let rows = cells(&body);
    assert_eq!(rows[0], vec!["行号", "列", "原因"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        (rows[1][0].as_str(), rows[1][1].as_str()),
        ("3", "身份证号")
    );
    assert_eq!(
        (rows[2][0].as_str(), rows[2][1].as_str()),
        ("4", "所属组织编码")
    );
    assert!(rows[1][2].contains("身份证号") || !rows[1][2].is_empty());
    let (status, _, _) = download(&w.app, &path, &w.tb).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
