//! The HTTP server loop. `axum::serve` sets no timer, so hyper's header-read timeout never
//! runs and a client that sends half a request (or nothing) holds its connection for ever:
//! this loop serves the same router with a header-read timeout (which also ends idle
//! keep-alive connections), a cap on open connections in all and per client IP, and
//! graceful shutdown.
//!
//! HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which the reverse proxy in front
//! terminates, and the protocol sniffing of a dual-protocol server waits for the first bytes
//! without any timeout, which is exactly the hole being closed here.

use crate::config::ServerConfig;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

/// How long open requests may finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

/// Open connections per client IP; a slot is given back when its [`IpSlot`] drops.
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One connection's share of its IP's allowance.
struct IpSlot(Arc<PerIp>, IpAddr);

impl PerIp {
    /// A slot for `ip`, or `None` when it already holds `max` connections.
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot(self.clone(), ip))
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut m = (self.0).0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

/// Serve `app` on `listener` until `shutdown` completes, then let open requests finish
/// (at most [`DRAIN`]).
pub async fn run(
    listener: TcpListener,
    app: Router,
    cfg: &ServerConfig,
    trusted: Vec<IpNet>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    let total = Arc::new(Semaphore::new(cfg.max_connections));
    let per_ip = Arc::new(PerIp::default());
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(cfg.header_timeout_secs));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: excess clients queue in the kernel backlog
        // instead of costing a task and buffers each.
        let permit = tokio::select! {
            p = total.clone().acquire_owned() => p?,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // A reverse proxy on this host (127.0.0.1 or ::1) or a trusted one carries many
        // clients' connections: only other addresses are capped.
        let exempt = matches!(peer.ip(), IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::LOCALHOST)
            || peer.ip() == IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
            || trusted.iter().any(|n| n.contains(&peer.ip()));
        let slot = if exempt {
            None
        } else {
            match per_ip.take(peer.ip(), cfg.max_connections_per_ip) {
                Some(s) => Some(s),
                None => {
                    tracing::warn!(ip = %peer.ip(), "too many connections from one address");
                    drop(stream);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = match make.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop((permit, slot));
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => {
            tracing::warn!("shutdown: requests still open after {DRAIN:?}, closing them");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_slots_are_capped_and_given_back() {
        let p = Arc::new(PerIp::default());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = p.take(ip, 2).unwrap();
        let _b = p.take(ip, 2).unwrap();
        assert!(p.take(ip, 2).is_none());
        assert!(p.take("10.0.0.2".parse().unwrap(), 2).is_some());
        drop(a);
        assert!(p.take(ip, 2).is_some());
    }
}
