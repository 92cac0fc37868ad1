//! A fleet of Apache httpd servers sharing one session cache, with ssl-session preloaded
//! into one of them: the scale-out set-up of a TLS site. Two instances of the system's
//! apache2 with mod_ssl (config: tests/fleet/httpd.conf.in) listen on 127.0.0.2 and
//! 127.0.0.3 with the same certificate, ServerName and port, TLS 1.2 only, tickets off, and
//! keep their sessions in one memcached (mod_socache_memcache). `openssl s_client` makes a
//! session on one instance (`-sess_out`) and resumes it on the other (`-sess_in`), 3 times
//! in each direction. With the preload, mod_ssl's `i2d_SSL_SESSION` / `d2i_SSL_SESSION` and
//! its external-cache callback are ours, so the DER that crosses the cache is written and
//! read by both libssl and us.
//!
//! The fleet with both instances plain is the reference: the mixed fleet must give the
//! same outcomes, the same cache traffic, and clean logs. Every process is started by the
//! test in its own process group and stopped (SIGTERM, then SIGKILL to the group) when its
//! guard drops, also when the test fails; every wait is bounded. Skipped, with a message,
//! where apache2 or memcached is not installed (`.ci/run` installs both; `make fleet`
//! runs this test alone).

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long any one start, handshake or stop may take.
const LIMIT: Duration = Duration::from_secs(30);
const MODULES: &str = "/usr/lib/apache2/modules";
const CONF: &str = include_str!("fleet/httpd.conf.in");
/// Sessions made on each instance and resumed on the other.
const ROUNDS: usize = 3;
/// The two instances' addresses: A is always plain; B is preloaded in the mixed fleet.
const ADDR_A: &str = "127.0.0.2";
const ADDR_B: &str = "127.0.0.3";

/// `name` in PATH or the sbin directories (apache2 lives in /usr/sbin, often not in a
/// user's PATH).
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

struct Tools {
    apache2: PathBuf,
    memcached: PathBuf,
}

/// The programs the fleet needs, or None (and a message saying why the test skips).
fn tools() -> Option<Tools> {
    let (apache2, memcached) = (find_tool("apache2"), find_tool("memcached"));
    let (Some(apache2), Some(memcached)) = (apache2.clone(), memcached.clone()) else {
        eprintln!(
            "skipping the fleet test: {} not installed (apt-get install apache2 memcached)",
            [
                ("apache2", apache2.is_none()),
                ("memcached", memcached.is_none())
            ]
            .iter()
            .filter(|(_, missing)| *missing)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" and ")
        );
        return None;
    };
    // Installed but incomplete is a broken machine, not a reason to skip.
    for m in [
        "mod_ssl",
        "mod_socache_memcache",
        "mod_mpm_prefork",
        "mod_authz_core",
    ] {
        let p = Path::new(MODULES).join(format!("{m}.so"));
        assert!(
            p.is_file(),
            "apache2 is installed but {} is missing",
            p.display()
        );
    }
    Some(Tools { apache2, memcached })
}

fn read(p: &Path) -> String {
    std::fs::read(p).map(|b| text(&b)).unwrap_or_default()
}

/// The fleet's temporary directory, removed when dropped. Under the system temp directory,
/// not target/: the httpd children run as nobody and must reach the document root.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        // What a killed run left (its guards never ran): only directories of test
        // processes that are gone, since other runs may share the temp directory.
        for e in std::fs::read_dir(std::env::temp_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let f = e.file_name().to_string_lossy().into_owned();
            let pid = f
                .strip_prefix("ssl-session-fleet-")
                .and_then(|r| r.rsplit('-').next());
            if pid.is_some_and(|p| !Path::new("/proc").join(p).exists()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let d =
            std::env::temp_dir().join(format!("ssl-session-fleet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        Dir(d)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Has process `pid` (our child) exited? Leaves it unreaped, so that its pid, which is also
/// its process group's id, cannot be reused before the guard has signalled the group.
fn has_exited(pid: i32) -> bool {
    // SAFETY: waitid only writes the zeroed siginfo_t we own; WNOWAIT leaves the child
    // waitable by Child::wait later.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() != 0
    }
}

/// A server process started by the test, leader of its own process group (httpd's
/// children join it). Dropping it stops the whole group.
struct Proc {
    child: Child,
    name: String,
}

impl Proc {
    fn spawn(name: &str, mut cmd: Command) -> Proc {
        cmd.process_group(0).stdin(Stdio::null());
        // If the test process itself is killed (no guard runs), the server goes too.
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        Proc {
            child,
            name: name.to_string(),
        }
    }
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
    fn exited(&self) -> bool {
        has_exited(self.pid())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.pid();
        // SAFETY: kill only sends signals; pid is our unreaped child (so it and its group
        // id are still ours).
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let t = Instant::now();
        while !has_exited(pid) && t.elapsed() < LIMIT {
            std::thread::sleep(Duration::from_millis(20));
        }
        if !has_exited(pid) {
            eprintln!(
                "{}: no exit {LIMIT:?} after SIGTERM; killing its group",
                self.name
            );
        }
        // Whatever of the group is left (httpd children a crashed parent left behind).
        // SAFETY: as above; the group leader is not reaped yet.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// A port that is free on every one of `addrs` (bound and released: a server that then
/// finds it taken makes the caller try again).
fn free_port(addrs: &[&str]) -> u16 {
    for _ in 0..100 {
        let first = TcpListener::bind((addrs[0], 0)).expect("bind a loopback port");
        let port = first.local_addr().unwrap().port();
        if addrs[1..]
            .iter()
            .all(|a| TcpListener::bind((*a, port)).is_ok())
        {
            return port;
        }
    }
    panic!("no port free on all of {addrs:?}")
}

/// One round trip of the memcached text protocol.
fn memcached_command(port: u16, cmd: &str, end: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&sockaddr("127.0.0.1", port), LIMIT)?;
    s.set_read_timeout(Some(LIMIT))?;
    s.write_all(cmd.as_bytes())?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !text(&got).contains(end) {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(text(&got))
}

struct Memcached {
    proc: Proc,
    port: u16,
}

impl Memcached {
    fn start(tools: &Tools, dir: &Dir) -> Memcached {
        for attempt in 0..10 {
            let port = free_port(&["127.0.0.1"]);
            let log = dir.path(&format!("memcached.{attempt}.log"));
            let mut cmd = Command::new(&tools.memcached);
            // -U 0: no UDP.
            cmd.args(["-l", "127.0.0.1", "-U", "0", "-m", "16", "-c", "64"])
                .args(["-p", &port.to_string()]);
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } == 0 {
                // memcached refuses root without a user to switch to. Staying root keeps
                // the parent-death signal (a change of user clears it).
                cmd.args(["-u", "root"]);
            }
            cmd.stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::options().append(true).open(&log).unwrap());
            let m = Memcached {
                proc: Proc::spawn("memcached", cmd),
                port,
            };
            let t = Instant::now();
            loop {
                if memcached_command(port, "version\r\n", "\r\n")
                    .is_ok_and(|v| v.starts_with("VERSION "))
                {
                    return m;
                }
                if m.proc.exited() {
                    break; // port taken since free_port: try another
                }
                assert!(
                    t.elapsed() < LIMIT,
                    "memcached never answered: {}",
                    read(&log)
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("memcached did not start on any port")
    }

    /// The counters that show the cache carried the sessions.
    fn stats(&self) -> Vec<(String, u64)> {
        let s = memcached_command(self.port, "stats\r\n", "END\r\n").expect("memcached stats");
        ["cmd_set", "get_hits", "get_misses"]
            .iter()
            .map(|k| {
                let v = s
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("STAT {k} ")))
                    .unwrap_or_else(|| panic!("no {k} in memcached stats: {s}"));
                (k.to_string(), v.trim().parse().unwrap())
            })
            .collect()
    }
}

/// One running httpd instance.
struct Httpd {
    proc: Proc,
    name: String,
    addr: &'static str,
    root: PathBuf,
    preload: bool,
}

/// Why an instance did not come up.
enum StartError {
    /// The port was taken between free_port and httpd's bind: try another.
    PortTaken,
}

/// What the instances of one fleet share.
struct Shared<'a> {
    tools: &'a Tools,
    dir: &'a Dir,
    cert: (PathBuf, PathBuf),
    memcached: u16,
    port: u16,
}

impl Httpd {
    /// Start instance `name` on `addr`, with `server_name` (fleet.test unless a test wants
    /// a different session-id context).
    fn start(
        fleet: &Shared,
        name: &str,
        addr: &'static str,
        server_name: &str,
        preload: bool,
    ) -> Result<Httpd, StartError> {
        let Shared {
            tools,
            dir,
            cert,
            memcached,
            port,
        } = fleet;
        let root = dir.path(name);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("htdocs")).unwrap();
        for d in [&root, &root.join("htdocs")] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(root.join("htdocs/who.txt"), format!("served by {name}\n")).unwrap();
        let conf = CONF
            .replace("@ROOT@", root.to_str().unwrap())
            .replace("@MODULES@", MODULES)
            .replace("@ADDR@", addr)
            .replace("@PORT@", &port.to_string())
            .replace("@SERVERNAME@", server_name)
            .replace("@CERT@", cert.0.to_str().unwrap())
            .replace("@KEY@", cert.1.to_str().unwrap())
            .replace("@MEMCACHED@", &memcached.to_string());
        assert!(
            !conf.contains('@'),
            "unfilled placeholder in the config:\n{conf}"
        );
        std::fs::write(root.join("httpd.conf"), conf).unwrap();

        let mut cmd = Command::new(&tools.apache2);
        cmd.arg("-d")
            .arg(&root)
            .arg("-f")
            .arg(root.join("httpd.conf"))
            .arg("-DFOREGROUND")
            .env_remove("LD_PRELOAD")
            .env_remove("LD_DEBUG")
            .env_remove("LD_DEBUG_OUTPUT")
            .stdout(std::fs::File::create(root.join("stdout")).unwrap())
            .stderr(std::fs::File::create(root.join("stderr")).unwrap());
        if preload {
            cmd.env("LD_PRELOAD", our_so())
                // Where the loader says which definitions mod_ssl and libssl got (checked
                // after the run); one file per process, nothing on stderr.
                .env("LD_DEBUG", "bindings")
                .env("LD_DEBUG_OUTPUT", root.join("ld"));
        }
        let h = Httpd {
            proc: Proc::spawn(name, cmd),
            name: name.to_string(),
            addr,
            root,
            preload,
        };
        let t = Instant::now();
        loop {
            // AH00163 "... configured -- resuming normal operations": the children exist.
            let up = h.error_log().contains("resuming normal operations");
            if up && TcpStream::connect_timeout(&sockaddr(addr, *port), LIMIT).is_ok() {
                return Ok(h);
            }
            if h.proc.exited() {
                let log = h.logs();
                if log.contains("Address already in use") {
                    return Err(StartError::PortTaken);
                }
                panic!("{name}: apache2 exited at start:\n{log}");
            }
            assert!(
                t.elapsed() < LIMIT,
                "{name}: apache2 never listened:\n{}",
                h.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn error_log(&self) -> String {
        read(&self.root.join("error.log"))
    }

    /// The error log and what httpd printed before it opened it.
    fn logs(&self) -> String {
        format!(
            "{}{}{}",
            read(&self.root.join("stderr")),
            read(&self.root.join("stdout")),
            self.error_log()
        )
    }

    /// The processes of this instance: the parent and its children.
    fn pids(&self) -> Vec<i32> {
        let parent = self.proc.pid();
        let mut pids = vec![parent];
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            // Fields after "(comm)": state, ppid, ...
            let stat = read(&e.path().join("stat"));
            let ppid = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            if ppid == Some(parent) {
                pids.push(pid);
            }
        }
        pids
    }

    /// The loader's binding lines for this instance (preloaded instances only).
    fn bindings(&self) -> String {
        let mut all = String::new();
        for e in std::fs::read_dir(&self.root).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("ld.") {
                all.push_str(&read(&e.path()));
            }
        }
        all
    }
}

fn sockaddr(addr: &str, port: u16) -> std::net::SocketAddr {
    format!("{addr}:{port}").parse().unwrap()
}

/// What one `openssl s_client` connection showed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Handshake {
    /// "New, TLSv1.2, Cipher is ..." or "Reused, TLSv1.2, Cipher is ...".
    outcome: String,
    /// The body of the response: "served by a" or "served by b".
    served: String,
    session_id: String,
}

/// `openssl s_client` (never preloaded) to `addr`: handshake, GET /who.txt, read the
/// response until httpd closes. `sess` is ("-sess_out" or "-sess_in", file).
fn connect(dir: &Dir, tag: &str, addr: &str, port: u16, sess: (&str, &Path)) -> Handshake {
    let req = dir.path("request");
    std::fs::write(&req, "GET /who.txt HTTP/1.0\r\nHost: fleet.test\r\n\r\n").unwrap();
    let (out, err) = (
        dir.path(&format!("{tag}.out")),
        dir.path(&format!("{tag}.err")),
    );
    let mut child = Command::new("openssl")
        .env_remove("LD_PRELOAD")
        .args(["s_client", "-connect", &format!("{addr}:{port}")])
        // -ign_eof: send the request, then keep reading until the server closes.
        .args(["-servername", "fleet.test", "-tls1_2", "-ign_eof", sess.0])
        .arg(sess.1)
        .stdin(std::fs::File::open(&req).unwrap())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("openssl s_client");
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{tag}: s_client took longer than {LIMIT:?}:\n{}",
                read(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (read(&out), read(&err));
    assert!(
        status.success(),
        "{tag}: s_client {status}:\n{stdout}\n{stderr}"
    );
    let outcomes: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("New, ") || l.starts_with("Reused, "))
        .collect();
    assert_eq!(
        outcomes.len(),
        1,
        "{tag}: one handshake expected:\n{stdout}"
    );
    let field = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("{tag}: no {prefix:?} in:\n{stdout}"))
    };
    assert!(
        stdout.contains("HTTP/1.1 200 OK"),
        "{tag}: no 200 response:\n{stdout}"
    );
    Handshake {
        outcome: outcomes[0].to_string(),
        served: field("served by "),
        session_id: field("Session-ID:"),
    }
}

/// What one fleet did: per direction, the (issuing, resuming) handshakes; the cache's
/// counters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FleetRun {
    a_to_b: Vec<(Handshake, Handshake)>,
    b_to_a: Vec<(Handshake, Handshake)>,
    stats: Vec<(String, u64)>,
    /// Per instance (a, b): what its error log said, see `log_messages`.
    logs: [Vec<String>; 2],
}

impl FleetRun {
    /// The outcomes without the session IDs (random in each run).
    fn outcomes(&self) -> Vec<(String, String, String, String)> {
        self.a_to_b
            .iter()
            .chain(&self.b_to_a)
            .map(|(i, r)| {
                (
                    i.outcome.clone(),
                    i.served.clone(),
                    r.outcome.clone(),
                    r.served.clone(),
                )
            })
            .collect()
    }
    fn reused(pairs: &[(Handshake, Handshake)]) -> usize {
        pairs
            .iter()
            .filter(|(i, r)| {
                i.outcome.starts_with("New, ")
                    && !i.session_id.is_empty()
                    && r.outcome.starts_with("Reused, ")
                    && i.session_id == r.session_id
            })
            .count()
    }
}

/// Checks on a running instance: the preloaded one has our library mapped in every
/// process and mod_ssl bound to it; the plain one does not have it at all.
fn check_instance(h: &Httpd) {
    let pids = h.pids();
    assert!(pids.len() >= 2, "{}: no httpd children ({pids:?})", h.name);
    for pid in &pids {
        let maps = read(Path::new(&format!("/proc/{pid}/maps")));
        assert!(
            maps.contains("/libssl.so.3"),
            "{}: pid {pid} has no libssl mapped",
            h.name
        );
        assert_eq!(
            maps.contains("libssl_session.so"),
            h.preload,
            "{}: pid {pid}: libssl_session.so mapped: {}",
            h.name,
            maps.contains("libssl_session.so")
        );
    }
    if h.preload {
        let log = h.bindings();
        assert!(!log.contains("ERROR: ld.so"), "{}: {log}", h.name);
        let bound = |from: &str, sym: &str| binds_to_us(&log, from, sym);
        // mod_ssl's session cache code (ssl_scache.c), its callback registration, and the
        // cipher accessors behind its AH02041 log line.
        for sym in [
            "i2d_SSL_SESSION",
            "d2i_SSL_SESSION",
            "SSL_CTX_sess_set_get_cb",
            "SSL_CIPHER_get_name",
            "SSL_CIPHER_get_bits",
        ] {
            assert!(
                bound("mod_ssl.so", sym),
                "{}: mod_ssl's {sym} is not ours",
                h.name
            );
        }
        // And libssl's own calls (the handshake's new sessions).
        for sym in ["SSL_SESSION_new", "SSL_SESSION_free"] {
            assert!(
                bound("libssl.so.3", sym),
                "{}: libssl's {sym} is not ours",
                h.name
            );
        }
    }
}

/// An instance's logs (read after it stopped) must show no report of ours, no loader
/// error, no crashed child (AH00052 "child pid N exit signal ...").
fn check_logs(what: &str, root: &Path) {
    let logs = format!(
        "{}{}{}",
        read(&root.join("stderr")),
        read(&root.join("stdout")),
        read(&root.join("error.log"))
    );
    for bad in ["ssl-session:", "ERROR: ld.so", "exit signal", "AH00052"] {
        assert!(!logs.contains(bad), "{what}: {bad:?} in the logs:\n{logs}");
    }
}

/// An error log as "[module:level] AHnnnnn" per line, sorted (times, pids, ports and
/// client addresses differ between runs). The negotiated protocol, cipher and key bits
/// (AH02041, from mod_ssl's calls to `SSL_CIPHER_get_name` / `SSL_CIPHER_get_bits`) are
/// kept whole.
fn log_messages(log: &str) -> Vec<String> {
    let mut msgs: Vec<String> = log
        .lines()
        .filter_map(|l| {
            let level = l.split("] [").nth(1)?;
            let at = l.find(" AH")? + 1;
            let code = l.get(at..at + 7)?;
            Some(if code == "AH02041" {
                format!("[{level}] {}", &l[at..])
            } else {
                format!("[{level}] {code}")
            })
        })
        .collect();
    msgs.sort();
    msgs
}

/// Start memcached and the two instances (B preloaded or not, B's ServerName
/// `server_name_b`), make ROUNDS sessions on each and resume each on the other, check the
/// processes and the logs, stop everything.
fn run_fleet(tools: &Tools, tag: &str, preload_b: bool, server_name_b: &str) -> FleetRun {
    let t0 = Instant::now();
    let dir = Dir::new(tag);
    let cert = self_signed_cert(&dir.0, "fleet.test", "rsa:2048");
    let mc = Memcached::start(tools, &dir);
    let (a, b, port) = (0..10)
        .find_map(|_| {
            let fleet = Shared {
                tools,
                dir: &dir,
                cert: cert.clone(),
                memcached: mc.port,
                port: free_port(&[ADDR_A, ADDR_B]),
            };
            let a = Httpd::start(&fleet, "a", ADDR_A, "fleet.test", false);
            let b = Httpd::start(&fleet, "b", ADDR_B, server_name_b, preload_b);
            match (a, b) {
                (Ok(a), Ok(b)) => Some((a, b, fleet.port)),
                _ => None, // a port race: the guards stop what did start
            }
        })
        .expect("no port both instances could listen on");
    let started = t0.elapsed();

    let mut run = FleetRun {
        a_to_b: Vec::new(),
        b_to_a: Vec::new(),
        stats: Vec::new(),
        logs: Default::default(),
    };
    for (from, to, pairs) in [(&a, &b, &mut run.a_to_b), (&b, &a, &mut run.b_to_a)] {
        for i in 0..ROUNDS {
            let sess = dir.path(&format!("{}{}-{i}.pem", from.name, to.name));
            let tag = format!("{}{}-{i}", from.name, to.name);
            let issued = connect(
                &dir,
                &format!("{tag}-issue"),
                from.addr,
                port,
                ("-sess_out", &sess),
            );
            let resumed = connect(
                &dir,
                &format!("{tag}-resume"),
                to.addr,
                port,
                ("-sess_in", &sess),
            );
            pairs.push((issued, resumed));
        }
    }
    run.stats = mc.stats();
    check_instance(&a);
    check_instance(&b);
    let handshakes = t0.elapsed() - started;
    drop((a, b)); // stop both, then read what they logged on the way down
    for (i, name) in ["a", "b"].iter().enumerate() {
        check_logs(&format!("{tag} fleet, {name}"), &dir.path(name));
        run.logs[i] = log_messages(&read(&dir.path(name).join("error.log")));
    }
    drop(mc);
    eprintln!(
        "fleet {tag} (b {}): started in {started:?}, {} handshakes in {handshakes:?}, stopped \
         after {:?} in all",
        if preload_b { "preloaded" } else { "plain" },
        4 * ROUNDS,
        t0.elapsed()
    );
    for (dirn, pairs) in [("a -> b", &run.a_to_b), ("b -> a", &run.b_to_a)] {
        eprintln!("  {dirn}: {} of {ROUNDS} reused", FleetRun::reused(pairs));
        for (i, r) in pairs {
            eprintln!(
                "    {} ({}) | {} ({})",
                i.outcome, i.served, r.outcome, r.served
            );
        }
    }
    eprintln!("  memcached: {:?}", run.stats);
    run
}

/// The reference: both instances plain, run once per test binary.
fn plain_fleet(tools: &Tools) -> &'static FleetRun {
    static RUN: OnceLock<FleetRun> = OnceLock::new();
    RUN.get_or_init(|| run_fleet(tools, "plain", false, "fleet.test"))
}

/// Each direction resumed every session, on the other instance, through the cache.
fn assert_full_resumption(run: &FleetRun, what: &str) {
    for (dirn, pairs, issuer, resumer) in [
        ("a -> b", &run.a_to_b, "a", "b"),
        ("b -> a", &run.b_to_a, "b", "a"),
    ] {
        assert_eq!(
            FleetRun::reused(pairs),
            ROUNDS,
            "{what}, {dirn}: not every session resumed: {pairs:#?}"
        );
        for (i, r) in pairs {
            assert_eq!(
                (i.served.as_str(), r.served.as_str()),
                (issuer, resumer),
                "{what}"
            );
        }
    }
    // mod_ssl logs each connection's protocol and cipher.
    for (i, name) in ["a", "b"].iter().enumerate() {
        let n = run.logs[i]
            .iter()
            .filter(|m| m.contains("AH02041: Protocol: TLSv1.2, Cipher: "))
            .count();
        assert_eq!(n, 2 * ROUNDS, "{what}, {name}: {:#?}", run.logs[i]);
    }
    // One store per new session, one hit per resumption, no miss: the cache carried them.
    let n = 2 * ROUNDS as u64;
    let want: Vec<(String, u64)> = [("cmd_set", n), ("get_hits", n), ("get_misses", 0)]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(run.stats, want, "{what}: memcached counters");
}

#[test]
fn plain_fleet_resumes_every_session_on_the_other_instance() {
    let Some(tools) = tools() else { return };
    assert_full_resumption(plain_fleet(&tools), "plain fleet");
}

#[test]
fn preloaded_instance_shares_its_session_cache_with_a_plain_one() {
    let Some(tools) = tools() else { return };
    let mixed = run_fleet(&tools, "mixed", true, "fleet.test");
    assert_full_resumption(&mixed, "mixed fleet");
    let plain = plain_fleet(&tools);
    assert_eq!(
        mixed.outcomes(),
        plain.outcomes(),
        "the preloaded fleet's outcomes differ from the plain fleet's"
    );
    assert_eq!(mixed.stats, plain.stats, "memcached counters differ");
    for (i, name) in ["a", "b"].iter().enumerate() {
        assert_eq!(
            mixed.logs[i], plain.logs[i],
            "instance {name}: the error log's messages differ from the plain fleet's"
        );
    }
}

/// The control that shows the test sees a failed resumption: B with another ServerName has
/// another session-id context, so libssl (in the preloaded B too) finds each session in
/// the shared cache but refuses it, and every handshake is a new one.
#[test]
fn another_session_id_context_resumes_nothing() {
    let Some(tools) = tools() else { return };
    let run = run_fleet(&tools, "context", true, "other.test");
    for (dirn, pairs) in [("a -> b", &run.a_to_b), ("b -> a", &run.b_to_a)] {
        for (i, r) in pairs {
            assert!(
                i.outcome.starts_with("New, ") && r.outcome.starts_with("New, "),
                "{dirn}: a session resumed across session-id contexts: {i:?} {r:?}"
            );
        }
    }
    let hits = run.stats.iter().find(|(k, _)| k == "get_hits").unwrap().1;
    assert_eq!(
        hits,
        2 * ROUNDS as u64,
        "the cache must have delivered every session"
    );
}
