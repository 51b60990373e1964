//! Item 5: member import limits, in process (bombs that did not crash the old code).

use crate::support::*;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use std::io::{Cursor, Write};

/// Template header of the import.
pub(super) const HEADERS: [&str; 6] = [
    "姓名",
    "身份证号",
    "手机号",
    "所属组织编码",
    "工作单位",
    "职务",
];

/// A workbook with the template header and one row of `row` (written as text).
pub(super) fn workbook(row: &[&str]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in row.iter().enumerate() {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// A streaming writer of one zip part.
pub(super) type PartWriter<'a> = &'a dyn Fn(&mut dyn Write);

/// `base` (an xlsx) with the given parts replaced or added, each written by its function.
pub(super) fn rezip(base: &[u8], parts: &[(&str, PartWriter<'_>)]) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(Cursor::new(base)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..src.len() {
        let f = src.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        if parts.iter().any(|(p, _)| *p == name) {
            continue;
        }
        out.raw_copy_file(f).unwrap();
    }
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, write) in parts {
        out.start_file(*name, opts).unwrap();
        write(&mut out);
    }
    out.finish().unwrap().into_inner()
}

/// The bytes of one part of an xlsx.
pub(super) fn part(base: &[u8], name: &str) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(Cursor::new(base)).unwrap();
    let mut f = src.by_name(name).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut out).unwrap();
    out
}

/// POST the import as `token` to `base`.
pub(super) async fn send_import(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    bytes: Vec<u8>,
) -> Resp {
    let form = Form::new().text("purpose", "import").part(
        "file",
        Part::bytes(bytes)
            .file_name("会员.xlsx")
            .mime_str("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .unwrap(),
    );
    let r = client
        .post(format!("{base}/api/v1/admin/members/import"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    TestApp::read(r).await
}

/// Jobs ever started.
async fn jobs(app: &TestApp) -> i64 {
    app.query_i64("SELECT count(*) FROM member_import_jobs")
        .await
}

/// A running import is refused before the upload is read or parsed: even a file that is not
/// a workbook at all answers 409 `import_running`.
#[tokio::test]
async fn a_running_import_is_refused_before_the_file_is_parsed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.state
        .db
        .write(|c| {
            let now = gonghui::time::now();
            c.execute(
                "INSERT INTO member_import_jobs (admin_id, total, created_at, updated_at)
                 SELECT id, 10, ?1, ?1 FROM admins WHERE username = 'admin'",
                [now],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let r = send_import(&app.client, &app.base, &admin, b"not a workbook".to_vec()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "import_running"),
        "{:?}",
        r.body
    );
}

/// A part that inflates past its limit (17 MB of styles from a small upload) is refused with
/// 413 before the spreadsheet is read; a cell longer than 4096 bytes is refused with a Chinese
/// field message. No job starts for either.
#[tokio::test]
async fn inflated_parts_and_overlong_cells_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let base = workbook(&["张三", "11010519491231002X", "", "root", "单位", ""]);
    // Styles padded with 17 MB of empty elements inside the root: still a valid part.
    let styles = String::from_utf8(part(&base, "xl/styles.xml")).unwrap();
    let (head, tail) = styles.split_at(styles.rfind("</styleSheet>").unwrap());
    let bomb = rezip(
        &base,
        &[("xl/styles.xml", &|w: &mut dyn Write| {
            w.write_all(head.as_bytes()).unwrap();
            let filler = b"<x/>".repeat(1 << 18);
            for _ in 0..17 {
                w.write_all(&filler).unwrap();
            }
            w.write_all(tail.as_bytes()).unwrap();
        })],
    );
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let r = send_import(&app.client, &app.base, &admin, bomb).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("过大")
    );

    let long = "很".repeat(2000);
    let wb = workbook(&["张三", "11010519491231002X", "", "root", "单位", "", &long]);
    let r = send_import(&app.client, &app.base, &admin, wb).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let msg = r.body["error"]["fields"]["file"].as_str().unwrap();
    assert!(msg.contains("第 2 行") && msg.contains("过长"), "{msg}");
    assert_eq!(jobs(&app).await, 0);
}
