//! Application state, the router and the server.

use crate::config::Config;
use crate::crypto::Keys;
use crate::db::Db;
use crate::http::IpLimiter;
use crate::metrics::Metrics;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use ipnet::IpNet;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
pub struct Inner {
    /// Effective configuration.
    pub cfg: Config,
    /// Database.
    pub db: Db,
    /// Secret keys.
    pub keys: Keys,
    /// File store.
    pub storage: opendal::Operator,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Login attempts per IP.
    pub login_limiter: IpLimiter,
    /// Parsed trusted proxies.
    pub trusted_proxies: Vec<IpNet>,
    /// Encryption of sensitive personal fields.
    pub cipher: Arc<dyn crate::crypto::field::FieldCipher>,
    /// WeChat server API client.
    pub wechat: crate::wechat::WechatClient,
    /// SMS provider for login codes.
    pub sms: Arc<dyn crate::members::sms::SmsProvider>,
    /// News runtime: the search index and pending view counts.
    pub news: crate::news::NewsState,
    /// Members' status, org and token version for the per-request check.
    pub member_cache: Arc<crate::members::auth_cache::MemberCache>,
    /// Staff principals per live session for the per-request check.
    pub staff_cache: Arc<crate::auth::cache::StaffCache>,
    /// Activities as sign-up requests need them, kept in memory.
    pub activity_gate: Arc<crate::activities::gate::Gate>,
    /// First pages of the member activities list, kept in memory.
    pub activity_pages: Arc<crate::activities::app::FirstPageCache>,
    /// Member statistics tables, cleared on every member or org change.
    pub stats_members: Arc<crate::stats::api::MemberTables>,
    /// Benefits as claim requests need them, kept in memory.
    pub benefit_gate: Arc<crate::benefits::gate::Gate>,
    /// Free space of the data dir (writes stop, health degrades, when it runs out).
    pub disk: crate::disk::Probe,
    /// The clock deadlines are measured on (tests move it forward).
    pub clock: crate::time::Clock,
    /// The sensitive-word automaton, rebuilt only when the word list changes.
    pub safety_words: Arc<crate::safety::words::WordCache>,
    /// Runtime settings changed on the 参数设置 page (points and check-in rules, public address).
    pub live: crate::system::settings::Live,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Open everything under the configured data dir and bootstrap a fresh installation.
    pub async fn open(cfg: Config) -> anyhow::Result<AppState> {
        crate::config::ensure_dir(&cfg.data_dir)?;
        crate::config::secure_data_dir(&cfg.data_dir, &cfg.db_path())?;
        let keys = Keys::load_or_create(&cfg.keys_dir())?;
        let metrics = Arc::new(Metrics::new());
        let db = Db::open(&cfg.db_path(), &cfg.db, metrics.clone(), &keys.audit)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let storage = crate::storage::operator(&cfg)?;
        let trusted_proxies = cfg.trusted_proxy_nets()?;
        let login_limiter = IpLimiter::per_minute(cfg.auth.login_per_ip_per_minute);
        let field_keys = crate::crypto::field::FieldKeys::load_or_create(&cfg.keys_dir())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let cipher: Arc<dyn crate::crypto::field::FieldCipher> = Arc::new(
            crate::crypto::field::AesGcmCipher::new(&field_keys)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        let wechat = crate::wechat::WechatClient::new(&cfg.wechat)
            .map_err(|e| anyhow::anyhow!("微信配置无效: {e}"))?;
        let sms: Arc<dyn crate::members::sms::SmsProvider> = match cfg.sms.provider.as_str() {
            "http" => Arc::new(crate::members::sms::HttpProvider::new(cfg.sms.http.clone())),
            _ => Arc::new(crate::members::sms::LogProvider),
        };
        let news = crate::news::NewsState::open(&cfg, &db)?;
        let member_cache = Arc::new(crate::members::auth_cache::MemberCache::default());
        let mc = member_cache.clone();
        db.watch("members", Arc::new(move |ids| mc.invalidate(ids)));
        let activity_gate = crate::activities::gate::watching(&db);
        let activity_pages = crate::activities::app::first_pages(&db);
        let stats_members = crate::stats::api::member_tables(&db);
        let benefit_gate = crate::benefits::gate::watching(&db);
        let staff_cache = Arc::new(crate::auth::cache::StaffCache::default());
        for table in crate::auth::cache::WATCHED {
            let sc = staff_cache.clone();
            db.watch(table, Arc::new(move |_| sc.clear()));
        }
        let live_cfg = cfg.clone();
        let live = db
            .read(move |c| crate::system::settings::Live::open(&live_cfg, c))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let state = AppState(Arc::new(Inner {
            live,
            cfg,
            db,
            keys,
            storage,
            metrics,
            login_limiter,
            trusted_proxies,
            cipher,
            wechat,
            sms,
            news,
            member_cache,
            activity_gate,
            activity_pages,
            stats_members,
            benefit_gate,
            staff_cache,
            disk: crate::disk::Probe::default(),
            clock: crate::time::Clock::default(),
            safety_words: Arc::default(),
        }));
        crate::system::bootstrap::ensure(&state)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // Issue 17: answers stored in clear by earlier versions are sealed once, before serving.
        let cipher = state.cipher.clone();
        state
            .db
            .write(move |c| crate::activities::sealing::seal_stored_answers(c, cipher.as_ref()))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::search::startup_repair(&state.news.search).await;
        Ok(state)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "gonghui 工会服务 API", description = "职工小程序、管理后台与上级系统使用的接口。"),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API routes with their OpenAPI description.
pub fn api_routes(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::system::routes())
        .merge(crate::files::routes(state))
        .merge(crate::members::routes())
        .merge(crate::activities::routes())
        .merge(crate::news::routes())
        .merge(crate::messages::routes())
        .merge(crate::backup::routes())
        .merge(crate::benefits::routes())
        .merge(crate::aid::routes())
        .merge(crate::points::routes())
        .merge(crate::mall::routes())
        .merge(crate::tickets::routes())
        .merge(crate::safety::routes())
        .merge(crate::stats::routes())
}

/// Build the whole router: API, health, metrics, docs, files, middleware.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_routes(&state).split_for_parts();
    let openapi = crate::openapi::served(&openapi);
    let json_limit = state.cfg.limits.json_body_bytes;
    let router = Router::new().merge(api);
    #[cfg(feature = "bench-routes")]
    let router = router.merge(crate::bench_routes::routes());
    router
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .merge(crate::files::public_routes())
        .merge(crate::web::routes())
        .merge(
            Router::from(
                SwaggerUi::new("/api/docs").external_url_unchecked("/api/openapi.json", openapi),
            )
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                http::header::CONTENT_SECURITY_POLICY,
                http::HeaderValue::from_static(crate::web::ADMIN_CSP),
            )),
        )
        .fallback(crate::http::not_found)
        .method_not_allowed_fallback(crate::http::method_not_allowed)
        .layer(DefaultBodyLimit::max(json_limit))
        // A body that stalls (slow upload as an attack) releases its connection.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            std::time::Duration::from_secs(state.cfg.server.body_timeout_secs),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::disk::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::observe,
        ))
        .layer(axum::middleware::from_fn(crate::http::security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Liveness and the one condition an operator must act on: `degraded` while the data disk is
/// (nearly) full. Still 200, because the server is up and serving reads; a supervisor that
/// restarted it would free nothing.
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    let dir = &state.cfg.data_dir;
    let min = state.cfg.limits.min_free_bytes;
    let degraded = state.disk.degraded(dir, min);
    let mut body = serde_json::json!({
        "status": if degraded { "degraded" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    if degraded {
        body["disk"] = serde_json::json!({
            "free_bytes": state.disk.free(dir),
            "min_free_bytes": min,
            "message": "磁盘空间不足：写操作已暂停，请清理数据目录所在磁盘",
        });
    }
    crate::error::ok_raw(body)
}

/// Prometheus text. The metrics tell an outsider the routes, their traffic and the
/// writer's load, so they are served only to a request made on this host without a proxy
/// (peer on loopback, no forwarding headers) or carrying the configured token.
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<SocketAddr>>>,
    headers: http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let token = &state.cfg.server.metrics_token;
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests, so the time taken says nothing about the token.
    let token_ok = !token.is_empty()
        && crate::crypto::sha256_hex(bearer.as_bytes())
            == crate::crypto::sha256_hex(token.as_bytes());
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    let local = connect.is_some_and(|c| (c.0).0.ip().is_loopback()) && !forwarded;
    if !(local || token_ok) {
        return crate::error::AppError::Forbidden(
            "监控指标只对本机或持有 server.metrics_token 的采集端开放".into(),
        )
        .into_response();
    }
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Serve until Ctrl-C / SIGTERM.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let addr = state.cfg.listen_addr()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("无法监听 {addr}: {e}"))?;
    tracing::info!(%addr, data_dir = %state.cfg.data_dir.display(), "gonghui listening");
    println!("gonghui 已启动: http://{addr}/  (管理后台 /admin/ · 接口文档 /api/docs)");
    serve_on(listener, state, shutdown_signal()).await
}

/// Serve on an already bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    match crate::members::xlsx_import::fail_interrupted(&state).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "member imports cut off by a restart marked failed"
        ),
        Err(e) => tracing::error!(error = %e, "could not settle interrupted member imports"),
    }
    // Dropped when serving ends, which stops the delivery worker with the server.
    let _outbox_worker = crate::outbox::spawn_worker(&state);
    crate::news::spawn_jobs(&state);
    crate::activities::spawn_jobs(&state);
    crate::backup::jobs::spawn(&state);
    crate::files::sweep::spawn(&state);
    crate::tickets::jobs::spawn(&state);
    crate::points::expiry::spawn(&state);
    let cfg = state.cfg.server.clone();
    let trusted = state.trusted_proxies.clone();
    crate::server::run(listener, router(state), &cfg, trusted, shutdown).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
