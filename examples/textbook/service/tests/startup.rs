//! The service migrates at start-up against a real PostgreSQL.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shale_testkit::{free_port, fresh_database, shared_cluster};

fn start(url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_textbook-service"))
        .env_remove("NEON_DATABASE_URL")
        .env("DATABASE_URL", url)
        .env("PORT", port.to_string())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait for "listening" (Ok) or the process exiting (Err with its stderr).
fn wait_ready(child: &mut Child) -> Result<(), String> {
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("listening on") {
            return Ok(());
        }
    }
    Err(seen)
}

fn health(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
            let mut response = String::new();
            s.read_to_string(&mut response).unwrap();
            return response;
        }
        assert!(Instant::now() < deadline, "the service never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_instances_start_at_once_and_migrate_once() {
    let db = fresh_database("textbook_start");
    let (p1, p2) = (free_port().unwrap(), free_port().unwrap());
    let mut a = start(&db.url, p1);
    let mut b = start(&db.url, p2);
    wait_ready(&mut a).unwrap();
    wait_ready(&mut b).unwrap();
    for port in [p1, p2] {
        let response = health(port);
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains(r#""version":"001""#), "{response}");
    }
    a.kill().unwrap();
    b.kill().unwrap();
    let cluster = shared_cluster();
    assert_eq!(cluster.psql(&db.name, "SELECT count(*) FROM shale_migrations").unwrap(), "1");
    assert_eq!(
        cluster
            .psql(
                &db.name,
                "SELECT indexdef LIKE '%USING gin (profile)%' FROM pg_indexes WHERE indexname = 'idx_users_profile'"
            )
            .unwrap(),
        "t"
    );
}

#[test]
fn a_failing_migration_keeps_the_service_from_starting() {
    let db = fresh_database("textbook_fail");
    // Something else already owns the name `users` in this database.
    shared_cluster().psql(&db.name, "CREATE TYPE users AS (x int)").unwrap();
    let port = free_port().unwrap();
    let mut child = start(&db.url, port);
    let stderr = wait_ready(&mut child).unwrap_err();
    let status = child.wait().unwrap();
    assert!(!status.success());
    // CREATE TABLE IF NOT EXISTS skips (the name is taken); the ALTER on line 15 then fails.
    assert!(
        stderr.contains("refusing to start: migration 001 add_profile failed at migrations/001_add_profile.sql:15:1: \"users\" is a composite type"),
        "{stderr}"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "it must not serve");
    assert_eq!(shared_cluster().psql(&db.name, "SELECT status FROM shale_migrations").unwrap(), "failed");
}
