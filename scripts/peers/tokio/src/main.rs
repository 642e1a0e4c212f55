//! The seed's Tokio server: a task per connection on the multi-threaded runtime.
//!
//! Reads to the blank line, writes the 88-byte reply, closes. Binds 127.0.0.1 on the port
//! given as the first argument, with a listen backlog of 4096 (tokio's `bind` uses 1024).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
const BACKLOG: u32 = 4096;
const MAX_HEAD: usize = 8192;

async fn handle(mut stream: TcpStream) {
    let mut buffer = [0u8; 1024];
    let mut head: Vec<u8> = Vec::new();
    loop {
        match stream.read(&mut buffer).await {
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
    let _ = stream.write_all(RESPONSE).await;
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(10000);
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let listener = socket.listen(BACKLOG)?;
    println!("tokio server listening on 127.0.0.1:{port}");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(handle(stream));
            }
            Err(error) => eprintln!("accept failed: {error}"),
        }
    }
}
