//! Staff side of activities: list, create, edit, delete drafts, publish, cancel (registrants
//! notified in the same transaction). Every read and write is limited to the caller's scope.

use super::model::{Activity, ActivityData, ActivityIn, ActivityRow, ReasonIn, closed};
use super::repo::{self, load_scoped};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::system::orgs::load_in_scope;
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params, types::Value};
use serde::Deserialize;
use serde_json::json;

/// Filters for the staff activity list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Status.
    pub status: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Only this org and below.
    pub org_id: Option<i64>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// Activities in the caller's scope.
#[utoipa::path(get, path = "/api/v1/admin/activities", tag = "活动管理", security(("bearer" = [])), params(ActivityQuery),
    responses((status = 200, body = Page<Activity>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<ActivityQuery>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_READ)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let (cond, mut p) = scope.sql("a.org_id", None);
    let mut wh = vec![cond];
    if let Some(s) = q.status.filter(|s| !s.is_empty()) {
        if !super::model::STATUSES.contains(&s.as_str()) {
            return Err(AppError::field(
                "status",
                "状态只能是 draft、published、cancelled 或 finished",
            ));
        }
        wh.push("a.status = ?".into());
        p.push(Value::Text(s));
    }
    if let Some(cat) = q.category.filter(|s| !s.is_empty()) {
        wh.push("a.category = ?".into());
        p.push(Value::Text(cat));
    }
    if let Some(o) = q.org_id {
        wh.push("o.path GLOB (SELECT path FROM orgs WHERE id = ?) || '*'".into());
        p.push(Value::Integer(o));
    }
    let wh = wh.join(" AND ");
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!(
                    "SELECT count(*) FROM activities a JOIN orgs o ON o.id = a.org_id WHERE {wh}"
                ),
                &format!(
                    "{} WHERE {wh} ORDER BY a.starts_at DESC, a.id DESC LIMIT ? OFFSET ?",
                    super::model::SELECT
                ),
                p,
                pg,
                |r| super::model::map_row(r).map(|a| a.view),
            )
        })
        .await?;
    Ok(ok(out))
}

/// Check the references of an activity inside the writer: org in scope (404), category,
/// cover image and form template (field errors).
fn check_refs(c: &Connection, scope: &Scope, d: &ActivityData) -> Result<()> {
    load_in_scope(c, scope, d.org_id)?;
    let mut ck = Check::new();
    let cat: bool = c.query_row(
        "SELECT count(*) > 0 FROM dictionary_items WHERE dict = 'activity_category' AND code = ?1",
        [&d.category],
        |r| r.get(0),
    )?;
    if !cat {
        ck.fail("category", "活动类别不存在");
    }
    if let Some(f) = d.cover_file_id {
        let good: bool = c.query_row(
            "SELECT count(*) > 0 FROM files WHERE id = ?1 AND deleted_at IS NULL AND visibility = 'public' AND content_type LIKE 'image/%'",
            [f],
            |r| r.get(0),
        )?;
        if !good {
            ck.fail("cover_file_id", "封面图片不存在，请重新上传");
        }
    }
    if let Some(t) = d.form_template_id
        && super::templates::load_scoped(c, scope, t).is_err()
    {
        ck.fail("form_template_id", "报名表不存在");
    }
    ck.finish()
}

fn write_row(c: &Connection, id: Option<i64>, d: &ActivityData, by: i64) -> Result<i64> {
    let now = crate::time::now();
    let (lat, lng) = d.coords.unzip();
    let [s, e, ss, se] = d.times;
    match id {
        None => {
            c.execute(
                "INSERT INTO activities (org_id, title, category, description, cover_file_id, location_name, lat, lng, checkin_radius_m,
                    starts_at, ends_at, signup_starts_at, signup_ends_at, quota, members_only, needs_review, form_template_id, points,
                    created_by, created_at, updated_at, checkin_method)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?20, ?21)",
                params![d.org_id, d.title, d.category, d.description, d.cover_file_id, d.location_name, lat, lng, d.checkin_radius_m,
                    s, e, ss, se, d.quota, d.members_only, d.needs_review, d.form_template_id, d.points, by, now, d.checkin_method],
            )?;
            Ok(c.last_insert_rowid())
        }
        Some(id) => {
            c.execute(
                "UPDATE activities SET org_id = ?1, title = ?2, category = ?3, description = ?4, cover_file_id = ?5, location_name = ?6,
                    lat = ?7, lng = ?8, checkin_radius_m = ?9, starts_at = ?10, ends_at = ?11, signup_starts_at = ?12, signup_ends_at = ?13,
                    quota = ?14, members_only = ?15, needs_review = ?16, form_template_id = ?17, points = ?18, updated_at = ?19,
                    checkin_method = ?21
                 WHERE id = ?20",
                params![d.org_id, d.title, d.category, d.description, d.cover_file_id, d.location_name, lat, lng, d.checkin_radius_m,
                    s, e, ss, se, d.quota, d.members_only, d.needs_review, d.form_template_id, d.points, now, id, d.checkin_method],
            )?;
            Ok(id)
        }
    }
}

/// Create a draft activity.
#[utoipa::path(post, path = "/api/v1/admin/activities", tag = "活动管理", security(("bearer" = [])), request_body = ActivityIn,
    responses((status = 201, body = Activity), (status = 400), (status = 403), (status = 404, description = "组织不在管理范围内")))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<ActivityIn>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    let d = req.validate(&st.cfg.news.image_hosts)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            check_refs(c, &scope, &d)?;
            let id = write_row(c, None, &d, me.id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "activity.create",
                    "activity",
                    id,
                    json!({"org_id": d.org_id, "title": d.title}),
                ),
            )?;
            Ok(repo::load(c, id)?.view)
        })
        .await?;
    Ok(created(out))
}

/// One activity in scope.
#[utoipa::path(get, path = "/api/v1/admin/activities/{id}", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200, body = Activity), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_READ)?;
    Ok(ok(st
        .db
        .read(move |c| Ok(load_scoped(c, &scope, id)?.view))
        .await?))
}

/// The current activity in its input shape, for merging a PATCH.
fn as_input(a: &ActivityRow) -> serde_json::Value {
    let v = &a.view;
    json!({
        "org_id": v.org_id, "title": v.title, "category": v.category, "description": v.description,
        "cover_file_id": v.cover_file_id, "location_name": v.location_name, "lat": v.lat, "lng": v.lng,
        "checkin_radius_m": v.checkin_radius_m, "checkin_method": v.checkin_method, "starts_at": v.starts_at, "ends_at": v.ends_at,
        "signup_starts_at": v.signup_starts_at, "signup_ends_at": v.signup_ends_at, "quota": v.quota,
        "members_only": v.members_only, "needs_review": v.needs_review, "form_template_id": v.form_template_id,
        "points": v.points,
    })
}

/// Change an activity: any field of a draft; a published one keeps its org, form, audience
/// and review rule, and its quota cannot drop below the live registrations.
#[utoipa::path(patch, path = "/api/v1/admin/activities/{id}", tag = "活动管理", security(("bearer" = [])), request_body = ActivityIn,
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200, body = Activity), (status = 400), (status = 404), (status = 409)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    let actor = me.actor();
    let hosts = st.cfg.news.image_hosts.clone();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if !matches!(cur.view.status.as_str(), "draft" | "published") {
                return Err(closed(&cur.view.status));
            }
            let mut merged = as_input(&cur);
            let obj = merged
                .as_object_mut()
                .ok_or_else(|| AppError::internal("shape"))?;
            let mut changed = Vec::new();
            for (k, v) in req {
                if obj.get(&k) != Some(&v) {
                    changed.push(k.clone());
                }
                obj.insert(k, v);
            }
            let input: ActivityIn = serde_json::from_value(merged)
                .map_err(|e| AppError::BadRequest(format!("请求数据格式不正确：{e}")))?;
            let d = input.validate(&hosts)?;
            if cur.view.status == "published" {
                let frozen = ["org_id", "form_template_id", "members_only", "needs_review"];
                if let Some(f) = changed.iter().find(|k| frozen.contains(&k.as_str())) {
                    return Err(AppError::field(f, "活动已发布，不能修改此项"));
                }
                if d.quota < cur.view.registered {
                    return Err(AppError::field(
                        "quota",
                        format!("名额不能少于已报名人数 {}", cur.view.registered),
                    ));
                }
            }
            check_refs(c, &scope, &d)?;
            write_row(c, Some(id), &d, me.id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "activity.update",
                    "activity",
                    id,
                    json!({"fields": changed}),
                ),
            )?;
            Ok(repo::load(c, id)?.view)
        })
        .await?;
    Ok(ok(out))
}

/// Delete a draft.
#[utoipa::path(delete, path = "/api/v1/admin/activities/{id}", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200), (status = 404), (status = 409)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.view.status != "draft" {
                return Err(AppError::conflict_code(
                    "activity_not_draft",
                    "只能删除未发布的活动；已发布的活动请取消",
                ));
            }
            c.execute("DELETE FROM activities WHERE id = ?1", [id])?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "activity.delete",
                    "activity",
                    id,
                    json!({"title": cur.view.title}),
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({"id": id, "deleted": true})))
}

/// Publish a draft: members can see it and register in the signup window.
#[utoipa::path(post, path = "/api/v1/admin/activities/{id}/publish", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200, body = Activity), (status = 404), (status = 409)))]
pub async fn publish(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.view.status != "draft" {
                return Err(AppError::conflict_code("activity_not_draft", "只能发布草稿状态的活动"));
            }
            let now = crate::time::now();
            if cur.times[1] <= now {
                return Err(AppError::conflict_code("activity_ended", "活动结束时间已过，不能发布"));
            }
            c.execute(
                "UPDATE activities SET status = 'published', published_at = ?1, updated_at = ?1 WHERE id = ?2",
                params![now, id],
            )?;
            audit::record(c, &actor, &Entry::success("activity.publish", "activity", id, json!({})))?;
            Ok(repo::load(c, id)?.view)
        })
        .await?;
    Ok(ok(out))
}

/// Cancel a published activity with a reason; every live registrant is notified in the same
/// transaction.
#[utoipa::path(post, path = "/api/v1/admin/activities/{id}/cancel", tag = "活动管理", security(("bearer" = [])), request_body = ReasonIn,
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200, body = Activity), (status = 400), (status = 404), (status = 409)))]
pub async fn cancel(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ReasonIn>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    let mut ck = Check::new();
    let reason = ck.text("reason", "取消原因", &req.reason, 200);
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.view.status != "published" {
                return Err(AppError::conflict_code("activity_not_published", "只能取消已发布且未结束的活动"));
            }
            let now = crate::time::now();
            c.execute(
                "UPDATE activities SET status = 'cancelled', cancel_reason = ?1, closed_at = ?2, updated_at = ?2 WHERE id = ?3",
                params![reason, now, id],
            )?;
            let members: Vec<i64> = c
                .prepare("SELECT member_id FROM activity_registrations WHERE activity_id = ?1 AND status IN ('pending', 'approved')")?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for m in &members {
                repo::notify(c, *m, &cur, "activity.cancelled", format!("activity.cancelled:{id}:{m}"), "活动已取消", Some(&reason))?;
            }
            audit::record(c, &actor, &Entry::success("activity.cancel", "activity", id, json!({"notified": members.len()})))?;
            Ok(repo::load(c, id)?.view)
        })
        .await?;
    Ok(ok(out))
}
