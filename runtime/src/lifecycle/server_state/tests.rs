use super::*;
use std::sync::Arc;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hapee-state-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shared(cfg: &str) -> (Arc<Shared>, Plan) {
    let c = hapee_compiler::testkit::compile_text("t.cfg", cfg, false);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let plan = hapee_compiler::plan::build(&c.config, 1);
    let shared = Arc::new(Shared::build(&plan).expect("runtime supports the test config"));
    (shared, plan)
}

const HEADER: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

/// A version 1 line for server `id`/`name` of backend 2 `b`.
fn line(id: u32, name: &str, addr: &str, admin: u32, uw: u32, iw: u32, port: u16) -> String {
    format!("2 b {id} {name} {addr} 2 {admin} {uw} {iw} 30 1 0 2 0 0 0 0 - {port} - 0 0 - - 0\n")
}

fn server<'a>(s: &'a Shared, name: &str) -> &'a ServerRt {
    s.backend_by_name("b")
        .unwrap()
        .servers
        .iter()
        .find(|x| &*x.name == name)
        .unwrap()
}

#[test]
fn reads_version_one_and_refuses_what_haproxy_refuses() {
    let dir = temp_dir("read");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let good = write(
        "good",
        &format!("{HEADER}\n  # comment\n{}", line(1, "a", "-", 0, 1, 1, 80)),
    );
    let lines = read(&good).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0][3], "a");
    assert!(matches!(read(&write("empty", "")), Err(Unreadable::Empty)));
    assert!(matches!(
        read(&write("v2", "2\n")),
        Err(Unreadable::NoVersion)
    ));
    assert!(matches!(
        read(&write("junk", "1 \n")),
        Err(Unreadable::NoVersion)
    ));
    // Too few fields, and a last line without its end: the file is corrupted there.
    assert!(matches!(
        read(&write("short", "1\n2 b 1 a 127.0.0.1 2 0\n")),
        Err(Unreadable::Corrupted(1))
    ));
    let cut = format!("{HEADER}{}", line(1, "a", "-", 0, 1, 1, 80).trim_end());
    assert!(matches!(
        read(&write("cut", &cut)),
        Err(Unreadable::Corrupted(2))
    ));
    assert!(matches!(
        read(&dir.join("absent").to_string_lossy()),
        Err(Unreadable::Open(_))
    ));
    assert_eq!(leading_int(" 12abc"), Some(12));
    assert_eq!(leading_int("x"), None);
    assert_eq!(leading_digits("70000"), None);
    assert_eq!(leading_digits("8080"), Some(8080));
}

#[test]
fn applies_saved_states_with_haproxys_rules_for_a_changed_configuration() {
    let dir = temp_dir("apply");
    let file = dir.join("state");
    let cfg = format!(
        "global\n  server-state-file {}\n\
         defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
         load-server-state-from-file global\n\
         frontend fe\n  bind 127.0.0.1:1\n  default_backend b\n\
         backend b\n\
         \x20 server drained 127.0.0.1:9001\n\
         \x20 server reweighted 127.0.0.1:9002 weight 60\n\
         \x20 server kept_weight 127.0.0.1:9003 weight 50\n\
         \x20 server enabled_at_run_time 127.0.0.1:9004 disabled\n\
         \x20 server forced_maint 127.0.0.1:9005\n\
         \x20 server now_disabled 127.0.0.1:9006 disabled\n\
         \x20 server named localhost:9007\n\
         \x20 server broken 127.0.0.1:9008\n\
         \x20 server checked 127.0.0.1:9009 check\n",
        file.display()
    );
    let state = [
        HEADER.to_string(),
        line(1, "drained", "127.0.0.9", 8, 1, 1, 7001),
        line(2, "reweighted", "127.0.0.1", 0, 20, 50, 9002),
        line(3, "kept_weight", "127.0.0.1", 0, 20, 50, 9003),
        line(4, "enabled_at_run_time", "127.0.0.1", 4, 1, 1, 9004),
        line(5, "forced_maint", "127.0.0.1", 1, 1, 1, 9005),
        line(6, "now_disabled", "127.0.0.1", 0, 1, 1, 9006),
        line(7, "named", "127.0.0.8", 0, 1, 1, 7007),
        "2 b 8 broken 127.0.0.1 9 0 1 1 0 1 0 2 0 0 0 0 - 7008 - 0 0 - - 0\n".to_string(),
        "2 b 9 checked 127.0.0.1 0 0 1 1 0 8 2 0 2 0 0 0 - 9009 - 0 0 - - 0\n".to_string(),
    ]
    .concat();
    std::fs::write(&file, state).unwrap();
    let (s, plan) = shared(&cfg);
    apply(&s, &plan);
    let admin = |n: &str| server(&s, n).admin.load(Ordering::Relaxed);
    let uweight = |n: &str| server(&s, n).uweight.load(Ordering::Relaxed);
    let addr = |n: &str| server(&s, n).addr().unwrap().to_string();
    // Drain survives; the port comes back, the configured IP stays (no hostname).
    assert_eq!(admin("drained"), ADMIN_FDRAIN);
    assert_eq!(addr("drained"), "127.0.0.1:7001");
    // A run-time weight is kept only against the same configured weight.
    assert_eq!(uweight("reweighted"), 60);
    assert_eq!(uweight("kept_weight"), 20);
    // Disabled in the configuration, enabled at run time: stays enabled.
    assert_eq!(admin("enabled_at_run_time"), 0);
    assert_eq!(admin("forced_maint"), ADMIN_FMAINT);
    // Newly disabled in the configuration: the configuration wins.
    assert_eq!(admin("now_disabled"), ADMIN_FMAINT);
    // A hostname server takes its last address (`init-addr last,libc`).
    assert_eq!(addr("named"), "127.0.0.8:7007");
    // An invalid line applies nothing.
    assert_eq!(addr("broken"), "127.0.0.1:9008");
    // A check's down state and its `disable health` come back.
    let checked = server(&s, "checked");
    assert!(!checked.up.load(Ordering::Relaxed));
    assert!(!checked.check.enabled.load(Ordering::Relaxed));
    assert_eq!(checked.check.status().name(), "L4CON");
}

#[test]
fn a_local_file_takes_only_the_lines_of_its_backend() {
    let dir = temp_dir("local");
    let cfg = format!(
        "global\n  server-state-base {}\n\
         defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
         frontend fe\n  bind 127.0.0.1:1\n  default_backend b\n\
         backend b\n  load-server-state-from-file local\n  server a 127.0.0.1:9001\n",
        dir.display()
    );
    // The file is named after the backend; a line of another backend (other id, other
    // name) is ignored, one of a renamed backend with the same id is refused.
    let text = format!(
        "{HEADER}{}{}{}",
        "7 other 1 a 127.0.0.1 2 1 1 1 0 1 0 2 0 0 0 0 - 9001 - 0 0 - - 0\n",
        "2 renamed 1 a 127.0.0.1 2 1 1 1 0 1 0 2 0 0 0 0 - 9001 - 0 0 - - 0\n",
        line(1, "a", "127.0.0.1", 8, 1, 1, 9001),
    );
    std::fs::write(dir.join("b"), text).unwrap();
    let (s, plan) = shared(&cfg);
    apply(&s, &plan);
    assert_eq!(server(&s, "a").admin.load(Ordering::Relaxed), ADMIN_FDRAIN);
}
