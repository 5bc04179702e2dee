//! The arguments of the cryptographic converters, refused where HAProxy's `-c` refuses them:
//! message digest names OpenSSL does not know, and `sha2` sizes it has no digest for.

use super::*;

#[test]
fn digest_names_are_the_ones_openssl_knows() {
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
}
