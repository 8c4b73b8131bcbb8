//! [`Relay`]: a TCP relay on 127.0.0.1 between clients and one target, that a test can freeze
//! (bytes stop flowing both ways, connections stay open: a paused peer or a partition) and
//! cut (every relayed connection is closed: a lost link). New connections are accepted while
//! frozen but carry nothing until it thaws.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct State {
    frozen: AtomicBool,
    stop: AtomicBool,
    accepted: AtomicUsize,
    conns: Mutex<Vec<TcpStream>>,
}

pub struct Relay {
    addr: SocketAddr,
    state: Arc<State>,
}

impl Relay {
    /// Relay 127.0.0.1:<free port> to `target`.
    pub fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("relay addr");
        let state = Arc::new(State {
            frozen: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            conns: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        std::thread::spawn(move || accept_loop(listener, target, st));
        Relay { addr, state }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop moving bytes (both directions) until [`Relay::thaw`].
    pub fn freeze(&self) {
        self.state.frozen.store(true, Ordering::SeqCst);
    }

    pub fn thaw(&self) {
        self.state.frozen.store(false, Ordering::SeqCst);
    }

    /// Close every relayed connection (both sides see the connection end).
    pub fn cut(&self) {
        for c in self.state.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Connections accepted and relayed so far (every one of them is closed by a later
    /// [`Relay::cut`]).
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.cut();
    }
}

fn accept_loop(listener: TcpListener, target: SocketAddr, st: Arc<State>) {
    while !st.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let Ok(server) = TcpStream::connect_timeout(&target, Duration::from_secs(5)) else {
                    continue;
                };
                let _ = client.set_nonblocking(false);
                for s in [&client, &server] {
                    let _ = s.set_nodelay(true);
                    let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
                }
                if let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) {
                    let mut conns = st.conns.lock().unwrap();
                    conns.push(c2);
                    conns.push(s2);
                }
                st.accepted.fetch_add(1, Ordering::SeqCst);
                let (c, s) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                let st1 = st.clone();
                std::thread::spawn(move || pump(client, server, st1));
                let st2 = st.clone();
                std::thread::spawn(move || pump(s, c, st2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Copy `from` → `to` while not frozen, until either side ends.
fn pump(mut from: TcpStream, mut to: TcpStream, st: Arc<State>) {
    let mut buf = vec![0u8; 64 * 1024];
    while !st.stop.load(Ordering::SeqCst) {
        if st.frozen.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                // A read already under way when the relay froze: hold what it brought, so
                // nothing sent after `freeze` returned gets through.
                while st.frozen.load(Ordering::SeqCst) && !st.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
