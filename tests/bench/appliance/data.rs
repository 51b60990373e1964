//! Data generation: members straight into SQLite (with real encryption, masked phones and blind
//! indexes, as the app writes them), an xlsx for the import scenario, Chinese article text, and
//! the fsync probe. Everything is deterministic (fixed seeds) so runs compare.

use gonghui::crypto::field::{AesGcmCipher, FieldCipher, FieldKeys};
use rusqlite::{Connection, params};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Small deterministic PRNG (xorshift64*), enough for test data.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    /// Next value.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A valid 18-digit resident ID number for sequence `i` (GB 11643 check digit).
pub fn id_number(i: u64) -> String {
    let seq = i % 1000;
    let day = (i / 1000) % 28 + 1;
    let month = (i / 28_000) % 12 + 1;
    let year = 1960 + (i / 336_000) % 40;
    let first17 = format!("330102{year}{month:02}{day:02}{seq:03}");
    let first17 = first17.as_str();
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(d, w)| d.to_digit(10).unwrap_or(0) * w)
        .sum();
    format!("{first17}{}", C[(sum % 11) as usize] as char)
}

/// A Chinese personal name for sequence `i` (surname plus two given characters), valid for the
/// server's name check; names repeat, as real ones do.
pub fn person_name(i: u64) -> String {
    const SUR: &[char] = &[
        '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙',
    ];
    const GIVEN: &[char] = &[
        '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛',
        '明', '超', '秀', '霞', '平', '刚', '桂', '英', '华',
    ];
    let g = GIVEN.len() as u64;
    format!(
        "{}{}{}",
        SUR[(i % SUR.len() as u64) as usize],
        GIVEN[((i / 12) % g) as usize],
        GIVEN[((i / 12 / g) % g) as usize]
    )
}

/// Phone number for sequence `i` (unique for i < 10^8).
pub fn phone(i: u64) -> String {
    format!("139{:08}", i)
}

/// The org tree used by every scenario: root (id 1, from bootstrap) → `counties` counties →
/// `per_county` grassroots unions each. Returns the grassroots org ids and their codes.
pub fn orgs(c: &Connection, counties: usize, per_county: usize) -> Vec<(i64, String)> {
    let now = gonghui::time::now();
    let mut out = Vec::new();
    let tx = c.unchecked_transaction().expect("tx");
    for k in 0..counties {
        tx.execute(
            "INSERT INTO orgs (parent_id, name, code, kind, path, created_at, updated_at)
             VALUES (1, ?1, ?2, 'county', '', ?3, ?3)",
            params![format!("测试县{k}总工会"), format!("BC{k:03}"), now],
        )
        .expect("county");
        let county = tx.last_insert_rowid();
        tx.execute(
            "UPDATE orgs SET path = ?1 WHERE id = ?2",
            params![format!("/1/{county}/"), county],
        )
        .expect("path");
        for g in 0..per_county {
            let code = format!("BG{k:03}{g:03}");
            tx.execute(
                "INSERT INTO orgs (parent_id, name, code, kind, path, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'grassroots', '', ?4, ?4)",
                params![county, format!("测试县{k}第{g}基层工会"), code, now],
            )
            .expect("grassroots");
            let id = tx.last_insert_rowid();
            tx.execute(
                "UPDATE orgs SET path = ?1 WHERE id = ?2",
                params![format!("/1/{county}/{id}/"), id],
            )
            .expect("path");
            out.push((id, code));
        }
    }
    tx.commit().expect("commit");
    out
}

/// Insert `n` active members spread over `orgs`, in batches of 10,000 rows per transaction.
/// Phones and ID numbers are encrypted with the installation's field key, as the app does.
/// Gender and birth date follow the ID number and join dates spread over 2000–2026, so the
/// statistics (age bands, gender, growth) count real spreads rather than one bucket.
/// Returns rows/second of the generation (for context only).
pub fn members(db: &Path, keys_dir: &Path, n: u64, orgs: &[(i64, String)]) -> f64 {
    let keys = FieldKeys::load_or_create(keys_dir).expect("field keys");
    let cipher = AesGcmCipher::new(&keys).expect("cipher");
    let mut c = Connection::open(db).expect("open db");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    let start = Instant::now();
    let now = gonghui::time::now();
    let mut i = 0u64;
    while i < n {
        let tx = c.transaction().expect("tx");
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO members (status, org_id, member_no, joined_at, org_since, work_unit, real_name,
                        phone_enc, phone_bidx, phone_last4, phone_masked, id_enc, id_bidx, id_masked,
                        realname_verified_at, nickname, created_at, updated_at, gender, birth_date)
                     VALUES ('active', ?1, ?2, ?14, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?3, ?13, ?3, ?3, ?15, ?16)",
                )
                .expect("prepare");
            let end = (i + 10_000).min(n);
            while i < end {
                let (org, _) = &orgs[(i as usize) % orgs.len()];
                let ph = phone(i);
                let idn = id_number(i);
                st.execute(params![
                    org,
                    format!("BM{:09}", i),
                    now,
                    "测试单位",
                    person_name(i),
                    cipher.encrypt(&ph, "member.phone").expect("enc"),
                    cipher.blind_index(&ph),
                    &ph[7..],
                    format!("{}****{}", &ph[..3], &ph[7..]),
                    cipher.encrypt(&idn, "member.id_number").expect("enc"),
                    cipher.blind_index(&idn),
                    format!("{}**********{}", &idn[..6], &idn[16..]),
                    format!("职工{i}"),
                    // Joined on one of ~9,500 days from 2000-01-01 (+08:00), by sequence.
                    946_656_000 + ((i * 7_919) % 9_500) as i64 * 86_400,
                    // GB 11643: the 17th digit is odd for men.
                    if idn.as_bytes()[16] % 2 == 1 {
                        "male"
                    } else {
                        "female"
                    },
                    format!("{}-{}-{}", &idn[6..10], &idn[10..12], &idn[12..14]),
                ])
                .expect("insert member");
                i += 1;
            }
        }
        tx.commit().expect("commit");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// An import workbook with `n` new members (ID numbers from `offset`) in the template's columns.
pub fn import_xlsx(n: u64, offset: u64, org_code: &str) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let headers = [
        "姓名",
        "身份证号",
        "手机号",
        "所属组织编码",
        "工作单位",
        "职务",
    ];
    for (col, h) in headers.iter().enumerate() {
        ws.write_string(0, col as u16, *h).expect("header");
    }
    for r in 0..n {
        let i = offset + r;
        let row = (r + 1) as u32;
        ws.write_string(row, 0, person_name(i)).expect("cell");
        ws.write_string(row, 1, id_number(i)).expect("cell");
        ws.write_string(row, 2, phone(i)).expect("cell");
        ws.write_string(row, 3, org_code).expect("cell");
        ws.write_string(row, 4, "导入测试单位").expect("cell");
        ws.write_string(row, 5, "职员").expect("cell");
    }
    wb.save_to_buffer().expect("xlsx")
}

/// The raw baseline for import: the same rows (name, encrypted ID and phone, blind indexes) in
/// one batched rusqlite transaction into a members-shaped table. Returns rows/second.
pub fn raw_import(dir: &Path, keys_dir: &Path, n: u64, offset: u64) -> f64 {
    let keys = FieldKeys::load_or_create(keys_dir).expect("field keys");
    let cipher = AesGcmCipher::new(&keys).expect("cipher");
    let path = dir.join("raw-import.db");
    let _ = std::fs::remove_file(&path);
    let mut c = Connection::open(&path).expect("open");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("sync");
    c.execute_batch(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, real_name TEXT, id_enc TEXT, id_bidx TEXT UNIQUE,
            phone_enc TEXT, phone_bidx TEXT UNIQUE, org_id INTEGER, work_unit TEXT, job_title TEXT)",
    )
    .expect("schema");
    let start = Instant::now();
    let tx = c.transaction().expect("tx");
    {
        let mut st = tx
            .prepare("INSERT INTO m (real_name, id_enc, id_bidx, phone_enc, phone_bidx, org_id, work_unit, job_title) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)")
            .expect("prepare");
        for r in 0..n {
            let i = offset + r;
            let (idn, ph) = (id_number(i), phone(i));
            st.execute(params![
                person_name(i),
                cipher.encrypt(&idn, "member.id_number").expect("enc"),
                cipher.blind_index(&idn),
                cipher.encrypt(&ph, "member.phone").expect("enc"),
                cipher.blind_index(&ph),
                "导入测试单位",
                "职员"
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
    n as f64 / start.elapsed().as_secs_f64()
}

const WORDS: &[&str] = &[
    "工会",
    "职工",
    "帮扶",
    "疗休养",
    "劳模",
    "困难",
    "慰问",
    "培训",
    "技能",
    "竞赛",
    "安全",
    "生产",
    "权益",
    "维护",
    "法律",
    "援助",
    "女职工",
    "关爱",
    "健康",
    "体检",
    "文体",
    "活动",
    "篮球",
    "比赛",
    "志愿",
    "服务",
    "春节",
    "送温暖",
    "助学",
    "金秋",
    "医疗",
    "互助",
    "保障",
    "会员",
    "福利",
    "节日",
    "慰问品",
    "工匠",
    "精神",
    "创新",
    "工作室",
    "表彰",
    "大会",
    "学习",
    "宣讲",
    "基层",
    "组织",
    "建设",
    "民主",
    "管理",
    "厂务",
    "公开",
    "集体",
    "协商",
    "工资",
];

/// A Chinese sentence of `len` words from a fixed vocabulary.
pub fn sentence(rng: &mut Rng, len: usize) -> String {
    let mut s = String::new();
    for k in 0..len {
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        if k % 7 == 6 {
            s.push('，');
        }
    }
    s.push('。');
    s
}

/// Queries for the search scenario: common two-character words and a few phrases.
pub fn queries() -> Vec<&'static str> {
    vec![
        "工会",
        "帮扶",
        "疗休养",
        "劳模",
        "困难职工",
        "技能竞赛",
        "女职工",
        "送温暖",
        "法律援助",
        "体检",
        "篮球比赛",
        "工匠精神",
        "集体协商",
        "助学",
        "慰问",
    ]
}

/// Append 4 KiB + fdatasync `n` times in `dir`; returns (p50, p99) in milliseconds.
pub fn fsync_probe(dir: &Path, n: usize) -> (f64, f64) {
    let path = dir.join("fsync-probe.bin");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("probe file");
    let block = [0x5au8; 4096];
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&block).expect("write");
        f.sync_data().expect("fdatasync");
        lat.push(t.elapsed().as_micros() as u64);
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    let s = crate::load::stats_of(lat, 1.0);
    (s.p50_ms, s.p99_ms)
}

/// A copy of the live database at `db` (the server may be running: `VACUUM INTO` reads one
/// consistent snapshot), for the same-table import baseline.
pub fn snapshot_db(db: &Path, to: &Path) {
    let _ = std::fs::remove_file(to);
    let c = Connection::open(db).expect("open live db");
    c.execute("VACUUM INTO ?1", [to.to_string_lossy()])
        .expect("vacuum into");
}

/// The second import baseline: the same kind of rows, batched in one rusqlite transaction
/// (synchronous=FULL) into the `members` table of a copy of the server's own database, with
/// its million rows and all its indexes, writing the columns the import writes. What this
/// costs is what the storage costs; the import's ratio to it is the application's overhead.
pub fn raw_import_same_table(copy: &Path, keys_dir: &Path, n: u64, offset: u64, org: i64) -> f64 {
    let keys = FieldKeys::load_or_create(keys_dir).expect("field keys");
    let cipher = AesGcmCipher::new(&keys).expect("cipher");
    let mut c = Connection::open(copy).expect("open copy");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("sync");
    let now = gonghui::time::now();
    let start = Instant::now();
    let tx = c.transaction().expect("tx");
    {
        let mut st = tx
            .prepare(
                "INSERT INTO members (status, org_id, member_no, joined_at, work_unit, job_title, real_name, gender, birth_date,
                    id_enc, id_bidx, id_masked, realname_verified_at, created_by, created_at, updated_at, org_since,
                    phone_enc, phone_bidx, phone_last4, phone_masked)
                 VALUES ('active', ?1, ?2, ?3, ?4, ?5, ?6, 'male', ?7, ?8, ?9, ?10, ?3, 1, ?3, ?3, ?3, ?11, ?12, ?13, ?14)",
            )
            .expect("prepare");
        for r in 0..n {
            let i = offset + r;
            let (idn, ph) = (id_number(i), phone(i));
            st.execute(params![
                org,
                format!("RAW{i:09}"),
                now,
                "导入测试单位",
                "职员",
                person_name(i),
                format!("{}-{}-{}", &idn[6..10], &idn[10..12], &idn[12..14]),
                cipher.encrypt(&idn, "member.id_number").expect("enc"),
                cipher.blind_index(&idn),
                format!("{}**********{}", &idn[..6], &idn[16..]),
                cipher.encrypt(&ph, "member.phone").expect("enc"),
                cipher.blind_index(&ph),
                &ph[7..],
                format!("{}****{}", &ph[..3], &ph[7..]),
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
    n as f64 / start.elapsed().as_secs_f64()
}
