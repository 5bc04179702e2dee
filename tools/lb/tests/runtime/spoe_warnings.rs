//! The warnings HAProxy 2.7 prints while it reads an SPOE file, side by side with HAProxy
//! 2.7.0's `-c`: an agent that lists no message nor group, a listed message without `event`,
//! and a message on a frontend event in a backend's filter. Warnings only: the check passes.

use crate::harness::{check_reports, haproxy_27, Scratch};
use std::path::Path;
use std::process::Command;

/// The `[WARNING]`/`[ALERT]` lines and their continuations, process ids left out.
fn warnings(program: &Path, cfg: &Path) -> Vec<String> {
    check_reports(program, cfg, |l| {
        l.starts_with("[WARNING]") || l.starts_with("[ALERT]") || l.starts_with("   |")
    })
}

const AGENT_TAIL: &str = "    use-backend agents
    timeout hello 2s
    timeout idle 2m
    timeout processing 500ms
";

#[test]
fn spoe_files_get_haproxy_27s_warnings() {
    let dir = Scratch::dir(&format!("hapee-spoe-warnings-{}", std::process::id()));
    let cases = [
        (
            "frontend",
            format!("spoe-agent quiet\n{AGENT_TAIL}"),
            "Proxy 'p': No message/group used by SPOE agent 'quiet' declared at {conf}:1.",
        ),
        (
            "frontend",
            format!("spoe-agent a\n    messages sent never\n{AGENT_TAIL}\nspoe-message sent\n    args src\n    event on-frontend-http-request\n\nspoe-message never\n    args src\n"),
            "Proxy 'p': Ignore SPOE message 'never' without event at {conf}:12.",
        ),
        (
            "backend",
            format!("spoe-agent a\n    messages early\n{AGENT_TAIL}\nspoe-message early\n    args src\n    event on-frontend-http-request\n"),
            "Proxy 'p': frontend event used on a backend proxy at {conf}:8.",
        ),
    ];
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hapee-lb"));
    for (i, (section, spoe, wanted)) in cases.iter().enumerate() {
        let conf = dir.join(format!("case{i}.conf"));
        std::fs::write(&conf, spoe).unwrap();
        let listener = if *section == "frontend" {
            "    bind 127.0.0.1:18700\n"
        } else {
            ""
        };
        let cfg = dir.join(format!("case{i}.cfg"));
        std::fs::write(
            &cfg,
            format!(
                "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
                 {section} p\n{listener}    filter spoe config {}\n    {}\n\
                 backend app\n    server s 127.0.0.1:8081\n\
                 backend agents\n    mode tcp\n    server a 127.0.0.1:9000\n\
                 listen l\n    bind 127.0.0.1:18701\n    server s 127.0.0.1:8081\n",
                conf.display(),
                if *section == "frontend" { "default_backend app" } else { "server s 127.0.0.1:8082" },
            ),
        )
        .unwrap();
        let wanted = format!(
            "[WARNING] config : {}",
            wanted.replace("{conf}", &conf.display().to_string())
        );
        let mine = warnings(&ours, &cfg);
        assert_eq!(mine, [wanted], "{spoe}");
        let status = Command::new(&ours)
            .args(["-c", "-f"])
            .arg(&cfg)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{spoe}");
        if let Some(theirs) = haproxy_27() {
            assert_eq!(warnings(&theirs, &cfg), mine, "{spoe}");
        }
    }
}
