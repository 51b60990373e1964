//! Members domain: member accounts and login, real name, membership, e-card, privacy rights,
//! and the staff side of member administration.

pub mod admin;
pub mod auth;
pub mod auth_cache;
pub mod card;
pub mod conflicts;
pub mod idcard;
pub mod identity;
pub mod import_jobs;
pub mod login;
pub mod membership;
pub mod model;
pub mod orgs;
pub mod profile;
pub mod repo;
pub mod sms;
pub mod xlsx;
pub mod xlsx_import;
pub mod xlsx_limits;
pub mod xlsx_read;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Member routes (app side and staff side).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login::wechat))
        .routes(routes!(login::sms_send))
        .routes(routes!(login::sms_login))
        .routes(routes!(login::refresh))
        .routes(routes!(login::bind_phone))
        .routes(routes!(
            profile::get_me,
            profile::patch_me,
            profile::delete_me
        ))
        .routes(routes!(profile::consent))
        .routes(routes!(profile::realname))
        .routes(routes!(profile::export))
        .routes(routes!(identity::confirm))
        .routes(routes!(conflicts::list))
        .routes(routes!(conflicts::release))
        .routes(routes!(conflicts::dismiss))
        .routes(routes!(orgs::search))
        .routes(routes!(membership::apply))
        .routes(routes!(membership::list))
        .routes(routes!(membership::approve))
        .routes(routes!(membership::bulk_approve))
        .routes(routes!(membership::reject))
        .routes(routes!(card::get))
        .routes(routes!(card::qr_png))
        .routes(routes!(card::verify))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::get, admin::patch))
        .routes(routes!(admin::reveal))
        .routes(routes!(admin::transfer))
        .routes(routes!(admin::leave))
        .merge(xlsx::routes())
}
