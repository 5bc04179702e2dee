//! The arguments of the cryptographic converters, refused where HAProxy's `-c` refuses them:
//! message digest names OpenSSL does not know, `sha2` and `aes_gcm_dec` sizes it has nothing
//! for, and secrets that are neither base64 nor a variable.

use super::*;

#[test]
fn crypto_arguments_are_refused_as_haproxy_refuses_them() {
    // Every spelling in one configuration, in both cases: OpenSSL's lookup ignores case.
    let rules: Vec<String> = hapee_compiler::registry::openssl::all_digest_spellings()
        .flat_map(|name| [name.to_string(), name.to_ascii_uppercase()])
        .map(|name| format!("    http-request set-header x %[str(a),digest({name}),hex]"))
        .collect();
    assert_rule_alert_like_haproxy(&rules.join("\n"), None);
    let refused = |rule: &str, converter: &str, message: &str| {
        let expr = rule.split_once("%[").unwrap().1;
        format!("config : parsing [10] : error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <{expr}> : invalid args in converter '{converter}' : {message}.")
    };
    let digest = "algorithm must be a valid OpenSSL message digest name.";
    for (rule, converter, message) in [
        // Not a digest, not built into OpenSSL 3.0, a spelling it does not keep, an XOF's MAC.
        (
            "    http-request set-header x %[str(a),digest(foo),hex]",
            "digest",
            digest,
        ),
        (
            "    http-request set-header x %[str(a),digest(mdc2),hex]",
            "digest",
            digest,
        ),
        (
            "    http-request set-header x %[str(a),digest(sha512/256),hex]",
            "digest",
            digest,
        ),
        (
            "    http-request set-header x %[str(a),digest(KECCAK-KMAC-128),hex]",
            "digest",
            digest,
        ),
        (
            "    http-request set-header x %[str(a),hmac(md2,a2V5),hex]",
            "hmac",
            digest,
        ),
        (
            "    http-request set-header x %[str(a),sha2(100),hex]",
            "sha2",
            "Unsupported number of bits: '100'",
        ),
    ] {
        assert_rule_alert_like_haproxy(rule, Some(&refused(rule, converter, message)));
    }
    // Base64 as HAProxy's decoder reads it (`a===` too), a variable, or nothing.
    let good = [
        "    http-request set-header x %[str(a),hmac(sha256,a===),hex]",
        "    http-request set-header x %[str(a),hmac(sha256,txn.k),hex]",
        "    http-request set-header x %[str(a),aes_gcm_dec(256,a2V5,txn.k,),hex]",
    ];
    assert_rule_alert_like_haproxy(&good.join("\n"), None);
}

/// Whatever digest name `check` accepts, `run` computes: no spelling of any digest, in
/// `digest` or in `hmac`, is reported as something the runtime lacks (U001).
#[test]
fn every_accepted_digest_runs() {
    let rules: String = hapee_compiler::registry::openssl::all_digest_spellings()
        .map(|name| {
            format!(
                "    http-request set-header x %[str(a),digest({name}),hex]\n\
                 \x20   http-request set-header y %[str(a),hmac({name},a2V5),hex]\n"
            )
        })
        .collect();
    let cfg = write_cfg(
        "digests-run.cfg",
        &VALID.replace(
            "    default_backend be\n",
            &format!("{rules}    default_backend be\n"),
        ),
    );
    let out = run(&["check", "--format", "json", "-f", cfg.to_str().unwrap()]);
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let text = report.to_string();
    assert!(!text.contains("\"U001\""), "{text}");
}
