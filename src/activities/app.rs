//! Member side of activities: list and detail of what the member may see, and "my activities".

use super::form::FieldDef;
use super::model::{Activity, map_row};
use super::registration::{MINE_COLS, MyRegistration, map_mine, mine};
use super::repo;
use crate::app::AppState;
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppError, AppPath, AppQuery, Result, ok};
use crate::first_page::FirstPages;
use crate::members::auth::MemberAuth;
use axum::extract::State;
use axum::response::Response;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

/// First pages of the list without a time filter, by audience (see [`crate::first_page`]),
/// category and page size.
pub type FirstPageCache = FirstPages<(Option<i64>, Option<String>, i64), Activity>;

/// Tables whose change may alter a cached page: activities (every sign-up changes its
/// activity's count), org names and paths, category names, cover links.
const WATCHED: [&str; 4] = ["activities", "orgs", "dictionary_items", "files"];

/// A cache of first pages told by `db`'s writer of every change that may alter one.
pub fn first_pages(db: &crate::db::Db) -> std::sync::Arc<FirstPageCache> {
    FirstPages::watching(db, &WATCHED)
}

/// Filters for the member's activity list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppActivityQuery {
    /// Category code.
    pub category: Option<String>,
    /// `upcoming`, `ongoing` or `ended`.
    pub status: Option<String>,
    /// `next_cursor` of the previous response; absent for the first slice.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Items per slice, default 20, at most 50.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Published and finished activities the member may see (venue coordinates withheld), latest
/// start first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/activities", tag = "活动", security(("bearer" = [])), params(AppActivityQuery),
    responses((status = 200, body = CursorPage<Activity>), (status = 400)))]
pub async fn list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<AppActivityQuery>,
) -> Result<Response> {
    let w = CursorQuery {
        cursor: q.cursor.clone(),
        limit: q.limit,
    }
    .resolve(2)?;
    let now = crate::time::now();
    let time_cond = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("upcoming") => Some(("a.status = 'published' AND a.starts_at > ?", 1)),
        Some("ongoing") => Some((
            "a.status = 'published' AND a.starts_at <= ? AND a.ends_at > ?",
            2,
        )),
        Some("ended") => Some(("(a.status = 'finished' OR a.ends_at <= ?)", 1)),
        Some(_) => {
            return Err(AppError::field(
                "status",
                "状态只能是 upcoming、ongoing 或 ended",
            ));
        }
    };
    // Without a time filter the first page is the same for a whole audience: from memory when
    // cached. (The time filters compare with the clock, so their pages are always read.)
    let first = (w.after.is_none() && time_cond.is_none()).then(|| {
        let category = q.category.clone().filter(|s| !s.is_empty());
        (crate::first_page::audience(&me), category, w.limit)
    });
    let member = me.id;
    let read = st.db.read(move |c| {
        let v = repo::viewer(c, member)?;
        let (vis, mut p) = repo::visible_sql(&v);
        let mut wh = vec![vis, "a.status IN ('published', 'finished')".to_string()];
        if let Some(cat) = q.category.filter(|s| !s.is_empty()) {
            wh.push("a.category = ?".into());
            p.push(Value::Text(cat));
        }
        if let Some((cond, n)) = time_cond {
            wh.push(cond.into());
            p.extend(std::iter::repeat_n(Value::Integer(now), n));
        }
        if let Some(k) = &w.after {
            // Written so `starts_at <= ?` can bound an index range.
            wh.push("a.starts_at <= ? AND (a.starts_at < ? OR a.id < ?)".into());
            p.extend([k[0], k[0], k[1]].map(Value::Integer));
        }
        let wh = wh.join(" AND ");
        p.push(Value::Integer(w.fetch()));
        let rows = c
            .prepare_cached(&format!(
                "{} WHERE {wh} ORDER BY a.starts_at DESC, a.id DESC LIMIT ?",
                super::model::SELECT
            ))?
            .query_map(rusqlite::params_from_iter(p), map_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let page = w.finish(rows, |a| vec![a.times[0], a.view.id]);
        Ok::<_, AppError>(CursorPage {
            items: page
                .items
                .into_iter()
                .map(|a| a.view.for_member())
                .collect(),
            next_cursor: page.next_cursor,
        })
    });
    let page = st.activity_pages.get_or_read(first, read).await?;
    Ok(ok(&*page))
}

/// An activity as a member sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppActivity {
    /// The activity (with `remaining`); `lat`, `lng` and `checkin_radius_m` are always null
    /// for members.
    #[serde(flatten)]
    pub activity: Activity,
    /// True when checking in by position is possible (otherwise scan the code at the venue).
    pub location_checkin: bool,
    /// The member's registration, if any.
    pub my_registration: Option<MyRegistration>,
    /// The registration form.
    pub form_fields: Vec<FieldDef>,
}

/// One activity the member may see (drafts and members-only outside the member's org chain
/// answer 404).
#[utoipa::path(get, path = "/api/v1/app/activities/{id}", tag = "活动", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200, body = AppActivity), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let member = me.id;
    let out = st
        .db
        .read(move |c| {
            let v = repo::viewer(c, member)?;
            let a = repo::load_visible(c, &v, id)?;
            let form_fields = match a.view.form_template_id {
                Some(t) => super::templates::fields_of(c, t)?,
                None => vec![],
            };
            Ok(AppActivity {
                my_registration: mine(c, id, member)?,
                location_checkin: a.view.location_checkin(),
                activity: a.view.for_member(),
                form_fields,
            })
        })
        .await?;
    Ok(ok(out))
}

/// One of my registrations with its activity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyActivity {
    /// The registration.
    pub registration: MyRegistration,
    /// Activity title.
    pub title: String,
    /// Start.
    pub starts_at: String,
    /// End.
    pub ends_at: String,
    /// Place.
    pub location_name: String,
    /// Activity status.
    pub activity_status: String,
    /// Cover URL.
    pub cover_url: Option<String>,
}

/// My registrations, newest first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/me/activities", tag = "活动", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<MyActivity>), (status = 400)))]
pub async fn mine_list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    let out = st
        .db
        .read(move |c| {
            let after = w.after.as_ref().map_or(i64::MAX, |k| k[0]);
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {MINE_COLS}, a.title, a.starts_at, a.ends_at, a.location_name, a.status, cf.public_token
                     FROM activity_registrations r JOIN activities a ON a.id = r.activity_id
                     LEFT JOIN files cf ON cf.id = a.cover_file_id AND cf.visibility = 'public'
                     WHERE r.member_id = ?1 AND r.id < ?2 ORDER BY r.id DESC LIMIT ?3"
                ))?
                .query_map(rusqlite::params![member, after, w.fetch()], |r| {
                    Ok(MyActivity {
                        registration: map_mine(r, 0)?,
                        title: r.get(8)?,
                        starts_at: crate::time::fmt(r.get(9)?),
                        ends_at: crate::time::fmt(r.get(10)?),
                        location_name: r.get(11)?,
                        activity_status: r.get(12)?,
                        cover_url: crate::files::public_url(r.get(13)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, AppError>(w.finish(rows, |m| vec![m.registration.id]))
        })
        .await?;
    Ok(ok(out))
}
