//! The seed's "Rust std" server: one thread, one connection at a time.
//!
//! Reads to the blank line, writes the 88-byte reply, closes. Differences from the seed page:
//! binds 127.0.0.1 on the port given as the first argument, reads until the head is complete
//! (the seed read once), gives up on a silent client after 5 s, and raises the listen backlog
//! from std's fixed 128 to 4096: with 128, ab -c 1000 overflows the queue and then hangs on a
//! connection whose request was dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::time::Duration;

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
const BACKLOG: i32 = 4096;
const MAX_HEAD: usize = 8192;

extern "C" {
    // libc's listen(2); calling it again on a listening socket only changes its backlog.
    fn listen(fd: i32, backlog: i32) -> i32;
}

fn handle(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buffer = [0u8; 1024];
    let mut head: Vec<u8> = Vec::new();
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
        if head.windows(4).any(|window| window == b"\r\n\r\n") {
            break;
        }
        if head.len() > MAX_HEAD {
            return;
        }
    }
    let _ = stream.write_all(RESPONSE);
}

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(9000);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    if unsafe { listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        eprintln!("could not raise the listen backlog; keeping std's 128");
    }
    println!("rust std server listening on 127.0.0.1:{port}");
    for stream in listener.incoming().flatten() {
        handle(stream);
    }
}
