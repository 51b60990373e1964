//! Hardship aid (帮扶服务): aid types with multi-level approval flows, applications with
//! encrypted personal values and private evidence, the approval log, disbursements, the
//! 困难职工 register and statistics.
//!
//! Who sees what: a member sees their own applications; staff see an application in their
//! scope once it has reached (or passed) a step of their own org, or when they filed it
//! (代申请). The steps are resolved to the applicant's own org chain at the first submit, so
//! a sibling county never reaches an application (404 on every route).

pub mod admin;
pub mod app;
pub mod erase;
pub mod model;
pub mod register;
pub mod repo;
pub mod review;
pub mod stats;
pub mod types;
pub mod views;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Aid routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(types::app_list))
        .routes(routes!(types::app_reasons))
        .routes(routes!(app::create, app::list))
        .routes(routes!(app::get, app::patch, app::put))
        .routes(routes!(app::submit))
        .routes(routes!(types::list, types::create))
        .routes(routes!(types::patch))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::export))
        .routes(routes!(admin::get))
        .routes(routes!(admin::reveal))
        .routes(routes!(review::approve))
        .routes(routes!(review::reject))
        .routes(routes!(review::return_))
        .routes(routes!(review::disburse))
        .routes(routes!(register::list))
        .routes(routes!(register::export))
        .routes(routes!(register::leave))
        .routes(routes!(register::review))
        .routes(routes!(stats::stats))
}
