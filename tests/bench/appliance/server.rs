//! The server under test: the release binary as a child process on 127.0.0.1, on a temp data
//! dir, stopped (SIGTERM, then SIGKILL) when the handle drops, so the bench never leaves a
//! server behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Admin password given through the environment (no forced change in the bench).
pub const ADMIN_PW: &str = "Bench#2026pw";

/// Build the release binary with the bench-only routes and return its path.
pub fn build_release() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    eprintln!("bench: cargo build --release --features bench-routes …");
    let st = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--features",
            "bench-routes",
            "--bin",
            "gonghui",
        ])
        .current_dir(root)
        .status()
        .expect("run cargo");
    assert!(st.success(), "release build failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    target.join("release").join("gonghui")
}

/// A running server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its data dir.
    pub data_dir: PathBuf,
}

/// Settings that differ between runs.
#[derive(Clone, Copy, Debug)]
pub enum Sync {
    /// `synchronous=FULL` (the default).
    Full,
    /// `synchronous=NORMAL`.
    Normal,
}

impl Server {
    /// Start `bin` on `data_dir` and wait until `/healthz` answers.
    pub fn start(bin: &Path, data_dir: &Path, sync: Sync, extra_env: &[(&str, String)]) -> Server {
        let port = free_port();
        let mut cmd = Command::new(bin);
        // Every GONGHUI_* variable is server config: pass only the bench's own.
        for (k, _) in std::env::vars() {
            if k.starts_with("GONGHUI_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("GONGHUI_ADMIN_PASSWORD", ADMIN_PW)
            .env(
                "GONGHUI_DB__SYNCHRONOUS",
                match sync {
                    Sync::Full => "full",
                    Sync::Normal => "normal",
                },
            )
            // Login limits would throttle the bench's own set-up calls.
            .env("GONGHUI_AUTH__LOGIN_PER_IP_PER_MINUTE", "10000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start server");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        proc_status_kib(self.pid(), "VmHWM:") as f64 / 1024.0
    }

    /// Stop gracefully and wait.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
