//! System domain: staff sign-in, org tree, accounts, roles, audit and login logs.

pub mod accounts;
pub mod bootstrap;
pub mod catalogue;
pub mod grants;
pub mod logs;
pub mod miniprogram;
pub mod org_repo;
pub mod orgs;
pub mod perms;
pub mod roles;
pub mod session;
pub mod useragent;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of the system domain.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::login))
        .routes(routes!(session::refresh))
        .routes(routes!(session::logout))
        .routes(routes!(session::change_password))
        .routes(routes!(session::password_policy))
        .routes(routes!(session::me))
        .routes(routes!(orgs::list, orgs::create))
        .routes(routes!(orgs::update, orgs::delete))
        .routes(routes!(accounts::list, accounts::create))
        .routes(routes!(accounts::get, accounts::update))
        .routes(routes!(accounts::reset_password))
        .routes(routes!(perms::assignable_roles))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::update, roles::delete))
        .routes(routes!(logs::audit_logs))
        .routes(routes!(logs::login_logs))
        .routes(routes!(logs::permissions))
        .routes(routes!(catalogue::catalogue))
        .routes(routes!(miniprogram::package))
}
