//! A minimal sequential HTTP/1.1 client for latency percentiles: one keep-alive connection,
//! the request bytes built once, the answer read straight off the socket on the calling
//! thread. A general client (reqwest) spends tens of microseconds of its own per request
//! (connection pool, a task hop to the connection, header maps), which at the tail is as much
//! as the fastest routes take; this one measures the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// One keep-alive connection to the server.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Conn {
    /// Connect to `base` (`http://127.0.0.1:PORT`).
    pub fn open(base: &str) -> Conn {
        let host = base.trim_start_matches("http://").to_string();
        let s = TcpStream::connect(&host).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            reader: BufReader::with_capacity(1 << 16, s.try_clone().expect("clone")),
            writer: s,
            host,
        }
    }

    /// The bytes of `GET path` with an optional bearer token.
    pub fn get_request(&self, path: &str, token: Option<&str>) -> Vec<u8> {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{auth}Accept: application/json\r\n\r\n",
            self.host
        )
        .into_bytes()
    }

    /// Send `req` and read the whole answer; returns (status, body, microseconds).
    pub fn send(&mut self, req: &[u8]) -> (u16, Vec<u8>, u64) {
        let t = Instant::now();
        self.writer.write_all(req).expect("send");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let (mut len, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            let (name, value) = h.split_once(':').expect("header line");
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                len = value.parse().expect("length");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line).expect("chunk size");
                let n = usize::from_str_radix(line.trim_end(), 16).expect("chunk size");
                let start = body.len();
                body.resize(start + n + 2, 0);
                self.reader.read_exact(&mut body[start..]).expect("chunk");
                body.truncate(start + n);
                if n == 0 {
                    break;
                }
            }
        } else {
            body.resize(len, 0);
            self.reader.read_exact(&mut body).expect("body");
        }
        (status, body, t.elapsed().as_micros() as u64)
    }
}
