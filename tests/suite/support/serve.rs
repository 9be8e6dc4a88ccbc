//! Running `mfacheck serve` for tests: the built binary on an ephemeral loopback port, its first
//! stderr line read for the address, its stdout (the log) collected line by line; and a minimal
//! HTTP/1.1 client over a raw socket, so that tests see the bytes the server wrote.
#![allow(dead_code)] // each test file uses its own part of this

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

pub use super::{binary, fixture};

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// The first stderr line: where it listens and where the page is.
    pub banner: String,
    log: Receiver<String>,
    seen: Vec<String>,
    /// stderr after the first line, collected by a thread.
    stderr: Receiver<String>,
    /// stdout, when the launch asked for a log nobody reads.
    _unread: Option<std::process::ChildStdout>,
}

/// How to start the server.
pub struct Launch {
    pub listen: &'static str,
    /// Read stdout (the log) as it comes; false leaves the pipe full and stalled.
    pub read_log: bool,
    /// The server's RLIMIT_NOFILE (soft and hard), set before it starts.
    pub nofile: Option<u64>,
    /// Environment variables set for it.
    pub env: Vec<(String, std::ffi::OsString)>,
}

impl Default for Launch {
    fn default() -> Self {
        Launch { listen: "127.0.0.1:0", read_log: true, nofile: None, env: Vec::new() }
    }
}

impl Server {
    /// `mfacheck serve --listen 127.0.0.1:0 ARGS…`, once it listens.
    pub fn start(args: &[&str]) -> Server {
        Server::launch(Launch::default(), args)
    }

    /// [`Server::start`] with these environment variables set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Server {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_os_string())).collect();
        Server::launch(Launch { env, ..Launch::default() }, args)
    }

    /// `mfacheck serve --listen LISTEN ARGS…` as `launch` says, once it listens.
    pub fn launch(launch: Launch, args: &[&str]) -> Server {
        let mut command = Command::new(binary());
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["serve", "--listen", launch.listen])
            .args(args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(limit) = launch.nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    let rlimit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = command.spawn().expect("mfacheck serve starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        // `mfacheck serve: listening on http://ADDR/ — …`: the address up to the first slash.
        let addr = first
            .trim()
            .strip_prefix("mfacheck serve: listening on http://")
            .and_then(|rest| rest.split(['/', ' ']).next())
            .unwrap_or_else(|| panic!("first stderr line: {first:?}"))
            .parse()
            .unwrap();
        let (err_tx, err_rx) = channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let (tx, rx) = channel();
        let mut unread = None;
        if launch.read_log {
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        } else {
            // Held open and never read: the pipe fills and the server's writes to it stall.
            unread = child.stdout.take();
        }
        Server {
            child,
            addr,
            banner: first.trim().to_owned(),
            log: rx,
            seen: Vec::new(),
            stderr: err_rx,
            _unread: unread,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the server wrote in answer to `request` (sent with `Connection: close` semantics:
    /// read until the server closes or goes quiet for a second).
    pub fn raw(&self, request: &str) -> Vec<u8> {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut out = Vec::new();
        let mut buf = [0; 65536];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    /// One request on a new connection, its response parsed.
    pub fn request(&self, request: &str) -> HttpResponse {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        read_response(&mut BufReader::new(stream))
    }

    pub fn get_with_token(&self, path: &str, token: &str) -> HttpResponse {
        self.get_with_headers(path, &format!("Authorization: Bearer {token}\r\n"))
    }

    pub fn get_with_headers(&self, path: &str, headers: &str) -> HttpResponse {
        self.request(&format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n"))
    }

    /// The first `n` log lines, parsed (waiting up to 10 s for them).
    pub fn log_lines(&mut self, n: usize) -> Vec<Value> {
        while self.seen.len() < n {
            let line = self.log.recv_timeout(Duration::from_secs(10)).expect("a log line");
            self.seen.push(line);
        }
        self.seen[..n].iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }

    /// SIGTERM, then the whole log (every line, also those already read) once it exits 0.
    pub fn stop(&mut self) -> String {
        self.signal("TERM");
        let status = wait_timeout(&mut self.child, Duration::from_secs(10)).expect("exits after SIGTERM");
        assert!(status.success(), "exit status {status:?}");
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        self.seen.iter().map(|l| format!("{l}\n")).collect()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// stderr lines after the first, as far as written.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// stderr lines after the first, waiting up to `limit` for the stream to end (after exit).
    pub fn stderr_until_closed(&self, limit: Duration) -> Vec<String> {
        let until = std::time::Instant::now() + limit;
        let mut lines = Vec::new();
        while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(_) => break,
            }
        }
        lines
    }

    /// The peak resident set of the server so far, in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn status(&self) -> u16 {
        self.status_line.split(' ').nth(1).unwrap().parse().unwrap()
    }
}

/// One HTTP/1.1 response: content-length or chunked bodies; no body for 1xx/204/304.
pub fn read_response<R: BufRead>(reader: &mut R) -> HttpResponse {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status_line = status_line.trim_end().to_owned();
    assert!(status_line.starts_with("HTTP/1.1 "), "status line {status_line:?}");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut response = HttpResponse { status_line, headers, body: Vec::new() };
    if let Some(len) = response.header("content-length") {
        let mut body = vec![0; len.parse().unwrap()];
        reader.read_exact(&mut body).unwrap();
        response.body = body;
    } else if response.header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            response.body.extend_from_slice(&chunk[..size]);
        }
    }
    response
}

/// An upstream for proxy tests: a hyper server on a loopback port, on its own runtime thread.
///
/// - `GET /download?bytes=N`: N bytes, generated as they are sent (content-length, no buffer);
/// - `POST /upload`: reads the body as it comes and answers how many bytes it counted;
/// - `GET /slow`: answers after one second;
/// - `GET /teapot`: `418 I'm short and stout` with an `X-Mixed-Case` header;
/// - anything else: a JSON echo of method, URI, headers and body length.
pub struct Upstream {
    pub addr: SocketAddr,
    pub requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Upstream {
    pub fn start() -> Upstream {
        use hyper::service::service_fn;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    let counter = counter.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            upstream_answer(req)
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Upstream { addr, requests }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn count(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

type UpstreamBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::convert::Infallible>;

async fn upstream_answer(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<UpstreamBody>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let full = |text: String| http_body_util::Full::new(bytes::Bytes::from(text)).boxed();
    // Under the base path that one test gives --upstream, too.
    let path = req.uri().path().trim_start_matches("/base").to_owned();
    let response = match path.as_str() {
        "/download" => {
            let n: u64 = req.uri().query().and_then(|q| q.strip_prefix("bytes=")).unwrap().parse().unwrap();
            hyper::Response::builder().header("content-length", n).body(Generated { left: n }.boxed()).unwrap()
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            hyper::Response::new(full("slow answer".into()))
        }
        "/teapot" => {
            let mut response = hyper::Response::new(full("short and stout".into()));
            *response.status_mut() = hyper::StatusCode::IM_A_TEAPOT;
            response.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(b"I'm short and stout"));
            response.headers_mut().insert("x-mixed-case", "yes".parse().unwrap());
            response
        }
        _ => {
            let method = req.method().to_string();
            let uri = req.uri().to_string();
            let headers: serde_json::Map<String, Value> = req
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), Value::String(v.to_str().unwrap_or_default().to_owned())))
                .collect();
            let mut body = req.into_body();
            let mut length = 0u64;
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    length += data.len() as u64;
                }
            }
            let echo = serde_json::json!({"method": method, "uri": uri, "headers": headers, "length": length});
            hyper::Response::new(full(echo.to_string()))
        }
    };
    Ok(response)
}

/// `left` bytes of `x`, made 64 KiB at a time as the reader asks for them.
struct Generated {
    left: u64,
}

static CHUNK: [u8; 65536] = [b'x'; 65536];

impl hyper::body::Body for Generated {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        let n = self.left.min(CHUNK.len() as u64) as usize;
        self.left -= n as u64;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(bytes::Bytes::from_static(&CHUNK[..n])))))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.left)
    }
}
