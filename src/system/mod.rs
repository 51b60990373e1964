//! System domain: staff sign-in, org tree, accounts, roles, audit and login logs.

pub mod accounts;
pub mod bootstrap;
pub mod catalogue;
pub mod config_view;
pub mod dashboard;
pub mod diag;
pub mod dictionaries;
pub mod grants;
pub mod logs;
pub mod miniprogram;
pub mod org_repo;
pub mod orgs;
pub mod perms;
pub mod roles;
pub mod session;
pub mod sessions;
pub mod settings;
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
        .routes(routes!(sessions::my_login_logs))
        .routes(routes!(sessions::list))
        .routes(routes!(sessions::revoke))
        .routes(routes!(sessions::locked))
        .routes(routes!(sessions::unlock))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(config_view::config, settings::update))
        .routes(routes!(diag::diag))
        .routes(routes!(dictionaries::list))
        .routes(routes!(dictionaries::set_color))
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
