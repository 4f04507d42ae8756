//! A private `redis-server` for a test: started on a Unix socket in a fresh directory,
//! stopped when dropped. Without `redis-server` on the PATH the tests skip, unless
//! `TRANSCEND_REQUIRE_REDIS` is set (as CI sets it). Shared by the client's and the
//! emulator's tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Child,
    dir: PathBuf,
    durable: bool,
    pub url: String,
}

impl RedisServer {
    /// A server keeping nothing on disk.
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// A server with `appendonly yes` and `appendfsync always`: what it acknowledged
    /// survives a SIGKILL.
    pub fn start_durable() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Option<Self> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var_os("TRANSCEND_REQUIRE_REDIS").is_none(),
                "redis-server is required (TRANSCEND_REQUIRE_REDIS is set) but not installed"
            );
            eprintln!("redis-server not installed: skipping the Redis tests");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("transcend-redis-{:032x}", fastrand::u128(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Self::spawn(&dir, durable);
        Some(Self {
            child,
            url: format!("redis+unix://{}", dir.join("redis.sock").display()),
            dir,
            durable,
        })
    }

    fn spawn(dir: &std::path::Path, durable: bool) -> Child {
        let socket = dir.join("redis.sock");
        let _ = std::fs::remove_file(&socket);
        let (appendonly, fsync) = if durable {
            ("yes", "always")
        } else {
            ("no", "everysec")
        };
        let child = Command::new("redis-server")
            .args(["--port", "0", "--save", "", "--unixsocketperm", "700"])
            .args(["--appendonly", appendonly, "--appendfsync", fsync])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// SIGKILL, then a new server on the same directory and socket (it reloads its
    /// append-only file when durable).
    pub fn kill_and_restart(&mut self) {
        self.stop();
        self.child = Self::spawn(&self.dir, self.durable);
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
