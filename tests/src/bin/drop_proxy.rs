//! A TCP proxy for fault injection between a client and the sync server. It passes bytes both
//! ways, reads just enough of each HTTP/1.1 request to name it, and prints one line per event
//! on stdout so a test can time a fault to a request:
//!
//! ```text
//! listening on http://127.0.0.1:PORT
//! request CONN METHOD PATH      the request's head has arrived (its body may still be coming)
//! sent CONN METHOD PATH         the whole request has been passed to the server
//! cut CONN BYTES                the answer was cut after BYTES bytes (both sockets closed)
//! ```
//!
//! `drop_proxy UPSTREAM [--cut-path PREFIX --cut-after BYTES]`: the connection that carries the
//! first request whose path starts with PREFIX is cut once BYTES bytes of answer (status line
//! and headers count) have come back after it, as a network that drops mid-response would.
//! BYTES larger than that answer cut a later answer on the same connection, if any. Only one
//! cut is made, so a later sync through the same proxy can recover. Uses std threads only.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};

/// What the proxy was asked to do, shared by every connection.
#[derive(Debug)]
struct Plan {
    upstream: String,
    cut_path: Option<String>,
    cut_after: usize,
    /// Set once the one cut has been scheduled.
    cut_used: AtomicBool,
}

/// The state of one connection that both directions see.
#[derive(Debug, Default)]
struct Link {
    /// Bytes of the answer still to pass before cutting, when a cut is scheduled.
    budget: Mutex<Option<usize>>,
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let upstream = args
        .next()
        .context("usage: drop_proxy UPSTREAM [--cut-path PREFIX --cut-after BYTES]")?;
    let mut cut_path = None;
    let mut cut_after = 0;
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--cut-path" => cut_path = Some(value),
            "--cut-after" => cut_after = value.parse().context("--cut-after BYTES")?,
            other => bail!("unknown flag {other}"),
        }
    }
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let plan = Arc::new(Plan {
        upstream,
        cut_path,
        cut_after,
        cut_used: AtomicBool::new(false),
    });
    let listener = TcpListener::bind("127.0.0.1:0")?;
    say(&format!("listening on http://{}", listener.local_addr()?));
    let connections = AtomicUsize::new(0);
    for client in listener.incoming() {
        let Ok(client) = client else { continue };
        let conn = connections.fetch_add(1, Ordering::SeqCst);
        let plan = Arc::clone(&plan);
        std::thread::spawn(move || {
            // A connection that fails to reach the server is just closed: the client sees a
            // network failure, as it would without the proxy.
            let _ = serve(conn, client, &plan);
        });
    }
    Ok(())
}

/// One line on stdout, flushed at once (the test reads them as they come).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn serve(conn: usize, client: TcpStream, plan: &Arc<Plan>) -> Result<()> {
    let server = TcpStream::connect(&plan.upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let link = Arc::new(Link::default());
    let answers = {
        let (server, client, link) = (server.try_clone()?, client.try_clone()?, Arc::clone(&link));
        std::thread::spawn(move || {
            let _ = answers(conn, server.try_clone()?, client.try_clone()?, &link);
            // However the server's side ended (closed, reset by a killed server, cut), the
            // client's goes down too: a client left waiting on an open socket would hang.
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
            std::io::Result::Ok(())
        })
    };
    let result = requests(conn, client.try_clone()?, server.try_clone()?, plan, &link);
    // A client that is done lets the server finish; a failed relay ends the connection.
    let _ = server.shutdown(if result.is_ok() {
        Shutdown::Write
    } else {
        Shutdown::Both
    });
    let _ = answers.join();
    let _ = client.shutdown(Shutdown::Both);
    result
}

/// Client to server: each request's head is read whole (to name it and find its length), then
/// head and body are passed on.
fn requests(
    conn: usize,
    mut client: TcpStream,
    mut server: TcpStream,
    plan: &Plan,
    link: &Link,
) -> Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // The head: up to the blank line.
        let head_end = loop {
            if let Some(at) = find(&buf, b"\r\n\r\n") {
                break at + 4;
            }
            if buf.len() > 64 * 1024 {
                bail!("request head over 64 KiB");
            }
            let n = client.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut words = head.split_whitespace();
        let method = words.next().unwrap_or("?").to_string();
        let path = words.next().unwrap_or("?").to_string();
        let length = content_length(&head)?;
        say(&format!("request {conn} {method} {path}"));
        if let Some(prefix) = &plan.cut_path
            && path.starts_with(prefix.as_str())
            && !plan.cut_used.swap(true, Ordering::SeqCst)
        {
            // Scheduled before the request reaches the server, so every answer byte that
            // follows is this request's (HTTP/1.1 clients do not pipeline).
            if let Ok(mut budget) = link.budget.lock() {
                *budget = Some(plan.cut_after);
            }
        }
        server.write_all(&buf[..head_end])?;
        buf.drain(..head_end);
        let mut left = length;
        while left > 0 {
            if buf.is_empty() {
                let n = client.read(&mut chunk)?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let take = left.min(buf.len());
            server.write_all(&buf[..take])?;
            buf.drain(..take);
            left -= take;
        }
        say(&format!("sent {conn} {method} {path}"));
    }
}

/// Server to client: bytes as they come, until a scheduled cut's budget is spent.
fn answers(conn: usize, mut server: TcpStream, mut client: TcpStream, link: &Link) -> Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = server.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        let budget = link.budget.lock().map(|b| *b).unwrap_or(None);
        match budget {
            Some(left) if left <= n => {
                client.write_all(&chunk[..left])?;
                client.flush()?;
                // Not a polite close of the answer: both sockets go down at once, mid-stream.
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
                say(&format!("cut {conn} {left}"));
                return Ok(());
            }
            Some(left) => {
                client.write_all(&chunk[..n])?;
                if let Ok(mut b) = link.budget.lock() {
                    *b = Some(left - n);
                }
            }
            None => client.write_all(&chunk[..n])?,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request body's length from its head; a chunked body is not expected from the client.
fn content_length(head: &str) -> Result<usize> {
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("transfer-encoding") {
            bail!("chunked request bodies are not supported");
        }
        if name.eq_ignore_ascii_case("content-length") {
            return value.trim().parse().context("content-length");
        }
    }
    Ok(0)
}
