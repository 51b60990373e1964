//! Claim and finish against an in-memory database (the WeChat side is in the API tests).

use super::*;
use serde_json::json;

fn db() -> Connection {
    let mut c = Connection::open_in_memory().unwrap();
    crate::migrations::apply(&mut c).unwrap();
    c.execute_batch(
        "INSERT INTO members (id, openid, status, created_at, updated_at) VALUES (7, 'o_7', 'active', 0, 0);
         INSERT INTO members (id, status, created_at, updated_at) VALUES (8, 'active', 0, 0);",
    )
    .unwrap();
    c
}

fn configure(c: &Connection) {
    let v = json!({"membership.approved": {"template_id": "TPL_OK", "data": {"thing1": "title", "phrase2": "result"}}});
    c.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ('subscription_templates', ?1, 0)",
        [v.to_string()],
    )
    .unwrap();
}

fn credit(c: &Connection, member: i64, n: i64) {
    c.execute(
        "INSERT INTO subscription_credits (member_id, template_id, credits, updated_at) VALUES (?1, 'TPL_OK', ?2, 0)",
        params![member, n],
    )
    .unwrap();
}

fn row(c: &Connection, member: i64) {
    let p = json!({"event": "membership.approved", "message_id": 1, "page": null,
        "fields": {"title": "入会申请结果通知书（请及时查看）再多一些字", "result": "审核已经通过"}});
    crate::outbox::enqueue(c, "subscribe", Some(member), &p, None).unwrap();
}

fn state(c: &Connection) -> (String, Option<String>, i64, i64) {
    c.query_row(
        "SELECT status, reason_code, attempts, next_attempt_at FROM outbox ORDER BY id DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap()
}

/// Rows that cannot be sent are closed with a reason instead of waiting forever.
#[test]
fn unsendable_rows_are_closed_with_a_reason() {
    let c = db();
    let now = crate::time::now();
    crate::outbox::enqueue(&c, "member.archived", Some(7), &json!({}), None).unwrap();
    assert!(matches!(claim(&c, now, true, 8).unwrap(), Claim::Closed));
    assert_eq!(state(&c).1.as_deref(), Some("unsupported_kind"));
    row(&c, 7);
    claim(&c, now, true, 8).unwrap();
    assert_eq!(state(&c).1.as_deref(), Some("skipped_no_template"));
    configure(&c);
    row(&c, 7);
    claim(&c, now, true, 8).unwrap();
    assert_eq!(state(&c).1.as_deref(), Some("skipped_no_credit"));
    row(&c, 8);
    claim(&c, now, true, 8).unwrap();
    assert_eq!(state(&c).1.as_deref(), Some("skipped_no_openid"));
    row(&c, 7);
    credit(&c, 7, 1);
    claim(&c, now, false, 8).unwrap();
    assert_eq!(state(&c).1.as_deref(), Some("skipped_not_configured"));
    assert!(matches!(claim(&c, now, true, 8).unwrap(), Claim::Idle));
}

/// A claimed row is leased (not claimable again) and sent marks spend exactly one credit.
#[test]
fn claim_leases_and_sent_spends_a_credit() {
    let c = db();
    configure(&c);
    credit(&c, 7, 2);
    row(&c, 7);
    let now = crate::time::now();
    let Claim::Send(job) = claim(&c, now, true, 8).unwrap() else {
        panic!("expected a send")
    };
    assert_eq!(job.msg.touser, "o_7");
    assert_eq!(job.msg.data["thing1"].chars().count(), 20);
    assert_eq!(job.msg.data["phrase2"], "审核已经通");
    assert_eq!(state(&c), ("pending".into(), None, 1, now + LEASE_SECS));
    assert!(matches!(claim(&c, now, true, 8).unwrap(), Claim::Idle));
    finish(&c, &job, &SendOutcome::Sent, now, 30, 8).unwrap();
    assert_eq!(state(&c).0, "sent");
    let left: i64 = c
        .query_row(
            "SELECT credits FROM subscription_credits WHERE member_id = 7",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 1);
    // A second finish for the same row is refused, so nothing is spent twice.
    assert!(finish(&c, &job, &SendOutcome::Sent, now, 30, 8).is_err());
}

/// Transient errors back off; the last allowed attempt fails the row.
#[test]
fn transient_errors_back_off_until_the_limit() {
    let c = db();
    configure(&c);
    credit(&c, 7, 1);
    row(&c, 7);
    let now = crate::time::now();
    let busy = SendOutcome::Transient {
        errcode: Some(-1),
        reason: "微信繁忙".into(),
    };
    let Claim::Send(job) = claim(&c, now, true, 2).unwrap() else {
        panic!()
    };
    finish(&c, &job, &busy, now, 30, 2).unwrap();
    assert_eq!(state(&c), ("pending".into(), None, 1, now + 30));
    assert!(matches!(claim(&c, now, true, 2).unwrap(), Claim::Idle));
    let Claim::Send(job) = claim(&c, now + 30, true, 2).unwrap() else {
        panic!()
    };
    finish(&c, &job, &busy, now, 60, 2).unwrap();
    let (status, code, attempts, _) = state(&c);
    assert_eq!(
        (status.as_str(), code.as_deref(), attempts),
        ("failed", Some("max_attempts"), 2)
    );
}

/// 43101 is recorded as refused and zeroes the credit count.
#[test]
fn refusal_is_final_and_clears_credits() {
    let c = db();
    configure(&c);
    credit(&c, 7, 3);
    row(&c, 7);
    let now = crate::time::now();
    let Claim::Send(job) = claim(&c, now, true, 8).unwrap() else {
        panic!()
    };
    finish(&c, &job, &SendOutcome::Refused, now, 30, 8).unwrap();
    assert_eq!(state(&c).0, "refused");
    let left: i64 = c
        .query_row(
            "SELECT credits FROM subscription_credits WHERE member_id = 7",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn backoff_doubles_and_caps() {
    assert_eq!(backoff(1, 30, 3600), 30);
    assert_eq!(backoff(2, 30, 3600), 60);
    assert_eq!(backoff(4, 30, 3600), 240);
    assert_eq!(backoff(20, 30, 3600), 3600);
    assert_eq!(backoff(1000, i64::MAX, i64::MAX), i64::MAX);
}

/// One claim job handles at most PASS_ROWS rows and leases at most PASS_SENDS of them.
#[test]
fn a_pass_is_bounded() {
    let c = db();
    let now = crate::time::now();
    for _ in 0..PASS_ROWS + 6 {
        row(&c, 8); // no openid: closed without sending once templates are configured
    }
    configure(&c);
    let (handled, jobs) = claim_batch(&c, now, true, 8).unwrap();
    assert_eq!((handled, jobs.len()), (PASS_ROWS, 0));
    credit(&c, 7, 10);
    for _ in 0..PASS_SENDS + 2 {
        row(&c, 7);
    }
    let (handled, jobs) = claim_batch(&c, now, true, 8).unwrap();
    // The 6 rows left over are closed, then PASS_SENDS rows leased; 2 wait for the next pass.
    assert_eq!((handled, jobs.len()), (6 + PASS_SENDS, PASS_SENDS));
    let (handled, jobs) = claim_batch(&c, now, true, 8).unwrap();
    assert_eq!((handled, jobs.len()), (2, 2));
    let (handled, jobs) = claim_batch(&c, now, true, 8).unwrap();
    assert_eq!((handled, jobs.len()), (0, 0));
}
