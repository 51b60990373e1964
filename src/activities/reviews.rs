//! Activity reviews as members see them, and the photos in them. A photo is shown to other
//! members only after a moderator approved it (`review_image` in the moderation queue), unless
//! `[safety] trusted_image_uploaders` trusts its uploader; the author always sees their own,
//! marked pending or rejected.

use super::repo;
use crate::app::AppState;
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppPath, AppQuery, Result, ok};
use crate::members::auth::MemberAuth;
use crate::safety::config::ImageTrust;
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params, params_from_iter, types::Value};
use serde::Serialize;
use serde_json::json;

/// Most photos in one review.
pub const MAX_IMAGES: usize = 6;
/// `file_refs.ref_type` of a review photo (the row id of `activity_review_images`).
pub const REF_TYPE: &str = "activity_review_image";
/// The moderation rule of a photo held because its uploader is not trusted.
pub const RULE_UNTRUSTED: &str = "image:untrusted_uploader";

/// Check a photo list's shape: at most [`MAX_IMAGES`], no repeats.
pub fn check_list(ck: &mut Check, ids: &[i64]) {
    if ids.len() > MAX_IMAGES {
        ck.fail("file_ids", format!("最多上传 {MAX_IMAGES} 张照片"));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|i| seen.insert(*i)) {
        ck.fail("file_ids", "照片不能重复");
    }
}

/// True when `member`'s photos are published without moderation under `trust`.
pub fn trusted(c: &Connection, trust: ImageTrust, member: i64) -> Result<bool> {
    Ok(match trust {
        ImageTrust::None => false,
        ImageTrust::All => true,
        ImageTrust::Members => c
            .prepare_cached(
                "SELECT count(*) > 0 FROM members WHERE id = ?1 AND status = 'active' AND org_id IS NOT NULL",
            )?
            .query_row([member], |r| r.get(0))?,
    })
}

/// Where a review's photos go: the registration, its activity and the organising org.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The reviewed registration.
    pub registration_id: i64,
    /// Its activity.
    pub activity_id: i64,
    /// The organising org (its moderators decide).
    pub org_id: i64,
    /// The author.
    pub member_id: i64,
}

/// Attach `files` to a review in the caller's transaction: each must be a live image the
/// author uploaded (`400` otherwise); untrusted photos are held and queued for moderation.
/// Returns how many were held.
pub fn attach(c: &Connection, t: Target, files: &[i64], trusted: bool) -> Result<usize> {
    crate::tickets::repo::check_images(c, files, "member", t.member_id)?;
    let held = i64::from(!trusted);
    let now = crate::time::now();
    let mut ins = c.prepare_cached(
        "INSERT INTO activity_review_images (registration_id, activity_id, member_id, file_id, held, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for f in files {
        ins.execute(params![
            t.registration_id,
            t.activity_id,
            t.member_id,
            f,
            held,
            now
        ])?;
        let id = c.last_insert_rowid();
        crate::files::refs::link(c, &[*f], REF_TYPE, id)?;
        if !trusted {
            crate::safety::gate::queue(
                c,
                &crate::safety::gate::Held {
                    kind: "review_image",
                    ref_id: id,
                    member_id: t.member_id,
                    org_id: t.org_id,
                    content: "（活动评价照片）",
                    payload: json!({"file_id": f, "activity_id": t.activity_id}),
                    rule: RULE_UNTRUSTED,
                },
            )?;
        }
    }
    Ok(if trusted { 0 } else { files.len() })
}

/// Apply a moderator's decision on photo `id` (approved: shown; rejected: never shown).
pub fn moderated(c: &Connection, id: i64, approved: bool) -> Result<()> {
    c.execute(
        "UPDATE activity_review_images SET held = ?1 WHERE id = ?2 AND held = 1",
        params![if approved { 0 } else { 2 }, id],
    )?;
    Ok(())
}

/// Remove an erased member's review photos (their files are deleted by the erasure).
pub fn erase_member(c: &Connection, member: i64) -> Result<()> {
    c.execute(
        "DELETE FROM file_refs WHERE ref_type = ?1 AND ref_id IN (SELECT id FROM activity_review_images WHERE member_id = ?2)",
        params![REF_TYPE, member],
    )?;
    c.execute(
        "DELETE FROM activity_review_images WHERE member_id = ?1",
        [member],
    )?;
    Ok(())
}

/// A photo in a review.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewImage {
    /// Photo id.
    pub id: i64,
    /// Signed URL, valid for a few minutes.
    pub url: String,
    /// `visible`, or for the author's own photos `pending` (awaiting moderation) or `rejected`.
    pub moderation: String,
}

/// A review of an activity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityReview {
    /// Review id (the registration's).
    pub id: i64,
    /// The author's nickname, masked (e.g. 张*).
    pub author: String,
    /// True for the caller's own review.
    pub mine: bool,
    /// 1 to 5.
    pub rating: i64,
    /// The comment, once it passed content safety.
    pub comment: Option<String>,
    /// Approved photos (and the caller's own, with their moderation state).
    pub images: Vec<ReviewImage>,
    /// Rated at.
    pub rated_at: String,
}

struct Row {
    id: i64,
    member_id: i64,
    name: String,
    rating: i64,
    comment: Option<String>,
    rated_at: i64,
}

/// Reviews of an activity the member may see, newest first; photos other members see only
/// once approved. Paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/activities/{id}/reviews", tag = "活动", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID"), CursorQuery),
    responses((status = 200, body = CursorPage<ActivityReview>), (status = 400), (status = 401), (status = 404)))]
pub async fn list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    let (page, photos) = st
        .db
        .read(move |c| {
            let v = repo::viewer(c, member)?;
            repo::load_visible(c, &v, id)?;
            let after = w.after.as_ref().map_or(i64::MAX, |k| k[0]);
            let rows = c
                .prepare_cached(
                    "SELECT r.id, r.member_id, coalesce(m.nickname, ''), r.rating, r.comment, r.rated_at
                     FROM activity_registrations r JOIN members m ON m.id = r.member_id
                     WHERE r.activity_id = ?1 AND r.rating IS NOT NULL AND r.id < ?2 ORDER BY r.id DESC LIMIT ?3",
                )?
                .query_map(params![id, after, w.fetch()], |r| {
                    Ok(Row {
                        id: r.get(0)?,
                        member_id: r.get(1)?,
                        name: r.get(2)?,
                        rating: r.get(3)?,
                        comment: r.get(4)?,
                        rated_at: r.get::<_, Option<i64>>(5)?.unwrap_or_default(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let page = w.finish(rows, |r| vec![r.id]);
            // The page's photos in one query: approved ones, and the caller's own.
            let photos: Vec<(i64, i64, i64, i64)> = if page.items.is_empty() {
                Vec::new()
            } else {
                let marks = vec!["?"; page.items.len()].join(",");
                let mut p: Vec<Value> = page.items.iter().map(|r| Value::Integer(r.id)).collect();
                p.push(Value::Integer(member));
                c.prepare(&format!(
                    "SELECT ri.registration_id, ri.id, ri.file_id, ri.held FROM activity_review_images ri
                     JOIN files f ON f.id = ri.file_id AND f.deleted_at IS NULL
                     WHERE ri.registration_id IN ({marks}) AND (ri.held = 0 OR ri.member_id = ?) ORDER BY ri.id"
                ))?
                .query_map(params_from_iter(p), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
            };
            Ok((page, photos))
        })
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|r| {
            let name = if r.name.is_empty() {
                "职工".to_string()
            } else {
                crate::crypto::mask::mask_name(&r.name)
            };
            ActivityReview {
                id: r.id,
                author: name,
                mine: r.member_id == member,
                rating: r.rating,
                comment: r.comment,
                images: photos
                    .iter()
                    .filter(|p| p.0 == r.id)
                    .map(|p| ReviewImage {
                        id: p.1,
                        url: crate::files::admin::signed_path(
                            &st,
                            p.2,
                            crate::files::admin::SIGNED_URL_TTL,
                        )
                        .0,
                        moderation: crate::tickets::model::held_text(p.3).into(),
                    })
                    .collect(),
                rated_at: crate::time::fmt(r.rated_at),
            }
        })
        .collect();
    Ok(ok(CursorPage {
        items,
        next_cursor: page.next_cursor,
    }))
}
