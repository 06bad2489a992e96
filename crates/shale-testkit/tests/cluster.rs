//! Against the real PostgreSQL server binaries.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shale_testkit::{fresh_database, shared_cluster, Cluster, ClusterOptions, ServerBinaries, TlsFiles, PORT_FILE};

fn wait_until_gone(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while path.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// A directory for persistent clusters that the `postgres` user can reach when we are root.
fn persistent_parent() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("shale-testkit-dev-").tempdir_in("/tmp").unwrap()
}

#[test]
fn finds_binaries() {
    let bins = ServerBinaries::find().unwrap();
    assert!(bins.bindir.join("initdb").exists());
    assert!(bins.version.starts_with(|c: char| c.is_ascii_digit()), "{}", bins.version);
    assert!(bins.major() >= 10);
}

#[test]
fn bindir_override_that_lacks_programs_is_an_error() {
    // SHALE_PG_BINDIR is read by find(); test the same check through from_bindir, which does
    // not depend on the process environment (tests run in parallel).
    let err = ServerBinaries::from_bindir(Path::new("/nonexistent/bin")).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/bin"), "{err}");
    assert!(err.contains("apt-get install postgresql"), "{err}");
}

#[test]
fn temporary_cluster_answers_queries() {
    let cluster = Cluster::start_temporary(ClusterOptions::default()).unwrap();
    assert_eq!(cluster.psql("postgres", "select 1").unwrap(), "1");
    assert_eq!(cluster.superuser(), "postgres");
    assert_eq!(cluster.psql("postgres", "select current_user").unwrap(), "postgres");
    assert_eq!(cluster.psql("postgres", "show fsync").unwrap(), "off");
    assert_eq!(cluster.psql("postgres", "show max_connections").unwrap(), "200");
    assert!(cluster.socket_dir().join(format!(".s.PGSQL.{}", cluster.port())).exists());

    // Every URL form works with libpq.
    for url in [cluster.url("postgres"), cluster.socket_url("postgres"), cluster.tcp_url("postgres")] {
        let out = cluster.psql_conn(&url, "select 2").unwrap();
        assert_eq!(out, "2", "{url}");
    }
    let via_tcp = cluster
        .psql_conn(
            &cluster.tcp_url("postgres"),
            "select client_addr is not null from pg_stat_activity where pid = pg_backend_pid()",
        )
        .unwrap();
    assert_eq!(via_tcp, "t");
    let via_socket = cluster
        .psql_conn(
            &cluster.url("postgres"),
            "select client_addr is null from pg_stat_activity where pid = pg_backend_pid()",
        )
        .unwrap();
    assert_eq!(via_socket, "t", "url() must connect over the unix socket with libpq");
    assert!(cluster
        .url("postgres")
        .starts_with(&format!("postgresql://postgres@localhost:{}/postgres?host=%2F", cluster.port())));

    // Several statements and results; errors carry psql's message.
    let out = cluster
        .psql("postgres", "create table t(a int); insert into t values (1),(2); select a from t order by a;")
        .unwrap();
    assert_eq!(out, "1\n2");
    let err = cluster.psql("postgres", "select * from no_such_table").unwrap_err().to_string();
    assert!(err.contains("no_such_table"), "{err}");
}

#[test]
fn create_database_then_connect() {
    let cluster = Cluster::start_temporary(ClusterOptions::default()).unwrap();
    cluster.create_database("App-DB").unwrap();
    assert_eq!(cluster.psql("App-DB", "select current_database()").unwrap(), "App-DB");
    assert_eq!(cluster.psql_conn(&cluster.url("App-DB"), "select current_database()").unwrap(), "App-DB");
    let err = cluster.create_database("App-DB").unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    cluster.drop_database("App-DB").unwrap();
    assert_eq!(cluster.psql("postgres", "select count(*) from pg_database where datname = 'App-DB'").unwrap(), "0");
}

#[test]
fn two_temporary_clusters_at_once() {
    let a = Cluster::start_temporary(ClusterOptions::default()).unwrap();
    let b = Cluster::start_temporary(ClusterOptions::default()).unwrap();
    assert_ne!(a.port(), b.port());
    assert_ne!(a.data_dir(), b.data_dir());
    a.psql("postgres", "create table only_in_a(x int)").unwrap();
    assert_eq!(a.psql("postgres", "select count(*) from pg_class where relname = 'only_in_a'").unwrap(), "1");
    assert_eq!(b.psql("postgres", "select count(*) from pg_class where relname = 'only_in_a'").unwrap(), "0");
}

#[test]
fn temporary_dir_is_removed_on_drop() {
    let cluster = Cluster::start_temporary(ClusterOptions::default()).unwrap();
    let base = cluster.base_dir().to_path_buf();
    let data = cluster.data_dir().to_path_buf();
    let port = cluster.port();
    assert!(data.join("PG_VERSION").exists());
    drop(cluster);
    assert!(!base.exists(), "{} still exists", base.display());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "server still listening on {port}");
}

#[test]
fn fixed_port_is_used() {
    let port = shale_testkit::free_port().unwrap();
    let cluster = Cluster::start_temporary(ClusterOptions { port: Some(port), ..Default::default() }).unwrap();
    assert_eq!(cluster.port(), port);
    assert_eq!(cluster.psql("postgres", "show port").unwrap(), port.to_string());
}

#[test]
fn taken_fixed_port_fails_with_the_server_log() {
    // Occupy a port, then ask for it explicitly: must fail, with the server log in the error.
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let err =
        Cluster::start_temporary(ClusterOptions { port: Some(port), ..Default::default() }).unwrap_err().to_string();
    eprintln!("{err}");
    assert!(err.contains("already in use"), "{err}");
    assert!(err.contains("server log"), "{err}");
}

#[test]
fn extra_conf_is_applied() {
    let opts = ClusterOptions {
        extra_conf: vec![("work_mem".into(), "7MB".into()), ("application_name".into(), "it's me".into())],
        ..Default::default()
    };
    let cluster = Cluster::start_temporary(opts).unwrap();
    assert_eq!(cluster.psql("postgres", "show work_mem").unwrap(), "7MB");
    let bad = ClusterOptions { extra_conf: vec![("bad name".into(), "1".into())], ..Default::default() };
    assert!(Cluster::start_temporary(bad).is_err());
}

#[test]
fn a_standby_streams_from_its_primary() {
    let primary = Cluster::start_temporary(ClusterOptions::default()).unwrap();
    primary.psql("postgres", "create table before_copy(x int); insert into before_copy values (1)").unwrap();
    let standby = Cluster::start_standby(&primary, ClusterOptions::default()).unwrap();
    assert_ne!(standby.port(), primary.port());
    assert_eq!(standby.psql("postgres", "select pg_is_in_recovery()").unwrap(), "t");
    assert_eq!(primary.psql("postgres", "select pg_is_in_recovery()").unwrap(), "f");
    assert_eq!(standby.psql("postgres", "select x from before_copy").unwrap(), "1");
    assert!(standby.psql("postgres", "create table refused(x int)").is_err(), "a standby is read-only");
    // What the primary writes after the copy arrives by streaming.
    primary.psql("postgres", "create table after_copy(x int); insert into after_copy values (2)").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while standby.psql("postgres", "select x from after_copy").ok().as_deref() != Some("2") {
        assert!(Instant::now() < deadline, "not replicated:\n{}", standby.log_tail(20));
        std::thread::sleep(Duration::from_millis(50));
    }
    let data_dir = standby.data_dir().to_path_buf();
    drop(standby);
    assert!(wait_until_gone(&data_dir, Duration::from_secs(10)), "the standby's directory stays after drop");
}

#[test]
fn persistent_cluster_survives_restart_on_same_port() {
    let parent = persistent_parent();
    let dir = parent.path().join("project/.shale/dev");

    assert_eq!(Cluster::status_persistent(&dir).unwrap(), None);
    assert!(!Cluster::stop_persistent(&dir).unwrap());

    let first = Cluster::start_persistent(&dir, ClusterOptions::default()).unwrap();
    assert!(!first.is_temporary());
    let port = first.port();
    let url = first.url("postgres");
    first.psql("postgres", "create table kept(x int); insert into kept values (42);").unwrap();
    assert_eq!(Cluster::status_persistent(&dir).unwrap(), Some(port));
    let recorded = std::fs::read_to_string(dir.join(PORT_FILE)).unwrap();
    assert_eq!(recorded.trim(), port.to_string());
    drop(first);
    // Not stopped on drop.
    assert_eq!(Cluster::status_persistent(&dir).unwrap(), Some(port));

    // Starting while running returns the running server.
    let again = Cluster::start_persistent(&dir, ClusterOptions::default()).unwrap();
    assert_eq!(again.port(), port);
    assert_eq!(again.url("postgres"), url);
    let other_port = ClusterOptions { port: Some(port.wrapping_add(1).max(1024)), ..Default::default() };
    assert!(Cluster::start_persistent(&dir, other_port).is_err());

    assert!(Cluster::stop_persistent(&dir).unwrap());
    assert_eq!(Cluster::status_persistent(&dir).unwrap(), None);
    assert!(!Cluster::stop_persistent(&dir).unwrap());

    let restarted = Cluster::start_persistent(&dir, ClusterOptions::default()).unwrap();
    assert_eq!(restarted.port(), port, "the recorded port is reused");
    assert_eq!(restarted.url("postgres"), url, "the URL is stable");
    assert_eq!(restarted.psql("postgres", "select x from kept").unwrap(), "42");
    assert!(Cluster::stop_persistent(&dir).unwrap());
}

#[test]
fn persistent_cluster_moves_off_a_taken_recorded_port() {
    let parent = persistent_parent();
    let dir = parent.path().join("dev");
    let first = Cluster::start_persistent(&dir, ClusterOptions::default()).unwrap();
    let port = first.port();
    assert!(Cluster::stop_persistent(&dir).unwrap());

    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let moved = Cluster::start_persistent(&dir, ClusterOptions::default()).unwrap();
    assert_ne!(moved.port(), port);
    assert_eq!(std::fs::read_to_string(dir.join(PORT_FILE)).unwrap().trim(), moved.port().to_string());
    assert_eq!(moved.psql("postgres", "select 1").unwrap(), "1");
    drop(squatter);
    assert!(Cluster::stop_persistent(&dir).unwrap());
}

#[test]
fn persistent_refuses_a_non_empty_non_data_dir() {
    let parent = persistent_parent();
    std::fs::write(parent.path().join("stray.txt"), "x").unwrap();
    let err = Cluster::start_persistent(parent.path(), ClusterOptions::default()).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn shared_cluster_gives_distinct_fresh_databases() {
    let a = fresh_database("Shared Test");
    let b = fresh_database("Shared Test");
    assert_ne!(a.name, b.name);
    assert_ne!(a.url, b.url);
    assert!(a.name.starts_with("shared_test_"), "{}", a.name);
    let cluster = shared_cluster();
    assert!(std::ptr::eq(cluster, shared_cluster()));
    cluster.psql(&a.name, "create table mine(x int)").unwrap();
    assert_eq!(cluster.psql(&a.name, "select count(*) from pg_class where relname = 'mine'").unwrap(), "1");
    assert_eq!(cluster.psql(&b.name, "select count(*) from pg_class where relname = 'mine'").unwrap(), "0");
    // TestDb derefs to its URL.
    let url: &str = &a;
    assert_eq!(cluster.psql_conn(url, "select current_database()").unwrap(), a.name);
}

fn openssl_available() -> bool {
    Command::new("openssl").arg("version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

fn self_signed_cert(dir: &Path) -> TlsFiles {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl failed: {}", String::from_utf8_lossy(&out.stderr));
    TlsFiles { cert, key }
}

#[test]
fn tls_cluster_accepts_ssl_connections() {
    if !openssl_available() {
        eprintln!("NOTE: skipping tls_cluster_accepts_ssl_connections: the `openssl` CLI is not installed");
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let tls = self_signed_cert(certs.path());
    let cluster = Cluster::start_temporary(ClusterOptions { tls: Some(tls), ..Default::default() }).unwrap();
    assert_eq!(cluster.psql("postgres", "show ssl").unwrap(), "on");
    let conninfo = format!("sslmode=require host=127.0.0.1 port={} user=postgres dbname=postgres", cluster.port());
    let ssl = cluster.psql_conn(&conninfo, "select ssl from pg_stat_ssl where pid = pg_backend_pid()").unwrap();
    assert_eq!(ssl, "t");
    let url = format!("{}?sslmode=require", cluster.tcp_url("postgres"));
    assert_eq!(cluster.psql_conn(&url, "select ssl from pg_stat_ssl where pid = pg_backend_pid()").unwrap(), "t");
}

/// Child half of `watchdog_cleans_up_after_a_killed_process`: only acts when the parent
/// re-executes this binary with SHALE_TESTKIT_WATCHDOG_CHILD set.
#[test]
fn watchdog_child_process() {
    if std::env::var_os("SHALE_TESTKIT_WATCHDOG_CHILD").is_none() {
        return;
    }
    let cluster = shared_cluster();
    println!("BASE_DIR={}", cluster.base_dir().display());
    println!("PORT={}", cluster.port());
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn watchdog_cleans_up_after_a_killed_process() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "watchdog_child_process", "--nocapture", "--test-threads=1"])
        .env("SHALE_TESTKIT_WATCHDOG_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut base: Option<PathBuf> = None;
    let mut port: Option<u16> = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        // The harness prints "test watchdog_child_process ... " before the first line.
        if let Some(i) = line.find("BASE_DIR=") {
            base = Some(PathBuf::from(&line[i + "BASE_DIR=".len()..]));
        }
        if let Some(i) = line.find("PORT=") {
            port = line[i + "PORT=".len()..].trim().parse().ok();
            break;
        }
    }
    let (Some(base), Some(port)) = (base, port) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child test process did not print its directory and port");
    };
    assert!(base.join("data/PG_VERSION").exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());

    child.kill().unwrap(); // SIGKILL: no destructors, no atexit
    child.wait().unwrap();

    assert!(
        wait_until_gone(&base, Duration::from_secs(15)),
        "{} not removed after the test process was killed",
        base.display()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "server on port {port} still running");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn persistent_dir_unreachable_by_server_user_is_a_clear_error() {
    if !nix_is_root() {
        return; // only root switches to the `postgres` user
    }
    use std::os::unix::fs::PermissionsExt;
    let parent = persistent_parent();
    let locked = parent.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    let err = Cluster::start_persistent(&locked.join("dev"), ClusterOptions::default()).unwrap_err().to_string();
    assert!(err.contains("cannot reach") && err.contains("locked"), "{err}");
}

fn nix_is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}
