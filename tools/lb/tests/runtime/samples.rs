//! Converters and fetches side by side with Debian's haproxy: a table of expressions, each
//! stored in a variable by `http-request set-var` and printed by `http-request return
//! lf-string`, evaluated over a range of inputs by both proxies; every answer must match.

use super::harness::*;
use std::time::Duration;

/// Converters over the request's `x-in` header (its full value).
const CONVERTERS: &[&str] = &[
    // Strings.
    "lower",
    "upper",
    "length",
    "field(2,/)",
    "field(-1,/)",
    "field(1,/,2)",
    "field(-2,/,2)",
    "field(9,/)",
    "word(2,/)",
    "word(-1,/)",
    "word(1,/,2)",
    "word(9,/)",
    "regsub(o,0,g)",
    "concat(<,txn.other,>)",
    "concat(,txn.missing,!)",
    "add_item(;,txn.other)",
    "add_item(;,,sfx)",
    "add_item(;,txn.other,sfx)",
    "strcmp(txn.other)",
    "ltrim(a-)",
    "rtrim(c:0)",
    "cut_crlf",
    "bytes(1,2),hex",
    "bytes(3),hex",
    "bytes(99),hex",
    "length,bool,iif(yes,no)",
    // Encodings.
    "base64",
    "base64,b64dec",
    "ub64enc",
    "ub64enc,ub64dec",
    "hex",
    "hex,hex2i",
    "be2dec(:,1)",
    "be2dec(-,3)",
    "be2dec(::,3,1)",
    "be2hex",
    "be2hex(:,1)",
    "be2hex(--,3)",
    "be2hex(.,3,1)",
    "url_enc",
    "url_dec",
    "url_dec(1)",
    "json",
    "json(utf8)",
    "json(utf8s)",
    "json(utf8p)",
    "json(utf8ps)",
    // Hashes and digests.
    "crc32",
    "crc32(1)",
    "crc32c",
    "crc32c(1)",
    "djb2",
    "djb2(1)",
    "sdbm",
    "sdbm(1)",
    "wt6",
    "wt6(1)",
    "xxh3",
    "xxh3(1)",
    "xxh32",
    "xxh32(1)",
    "xxh64",
    "xxh64(1)",
    "sha1,hex",
    "sha2,hex",
    "sha2(224),hex",
    "sha2(384),hex",
    "sha2(512),hex",
    "digest(sha256),hex",
    "digest(sha1),hex",
    // MD5 and BLAKE2 come from RustCrypto; OpenSSL's aliases name the same digests.
    "digest(md5),hex",
    "digest(MD5),hex",
    "digest(blake2s256),hex",
    "digest(BLAKE2b512),hex",
    "digest(SHA2-256),hex",
    "digest(sha512-256),hex",
    "hmac(SHA-1,a2V5),hex",
    "hmac(sha256,a2V5),hex",
    "hmac(sha1,txn.key),hex",
    // The other digests OpenSSL 3.0's default provider computes: SHAKE at its default length,
    // MD5 and SHA-1 side by side; their HMACs, with a key longer than any block (150 bytes).
    "digest(sha224),hex",
    "digest(sha512-224),hex",
    "digest(sha3-224),hex",
    "digest(SHA3-256),hex",
    "digest(sha3-384),hex",
    "digest(sha3-512),hex",
    "digest(shake128),hex",
    "digest(SHAKE-256),hex",
    "digest(sm3),hex",
    "digest(ripemd160),hex",
    "digest(RMD160),hex",
    "digest(md5-sha1),hex",
    "hmac(md5,a2V5),hex",
    "hmac(md5-sha1,a2V5),hex",
    "hmac(sha512-224,a2V5),hex",
    "hmac(sha512-256,a2V5),hex",
    "hmac(sha3-224,a2V5),hex",
    "hmac(sha3-512,txn.key),hex",
    "hmac(sm3,a2V5),hex",
    "hmac(ripemd160,a2V5),hex",
    "hmac(blake2s256,a2V5),hex",
    "hmac(blake2b512,a2V5),hex",
    "hmac(md5-sha1,txn.long),hex",
    "hmac(sha3-224,txn.long),hex",
    "hmac(blake2b512,txn.long),hex",
    // OpenSSL's HMAC takes no extendable-output function: no value on either side.
    "hmac(shake128,a2V5),hex",
    "secure_memcmp(txn.other)",
    // Integers: the text's leading number, and its length.
    "add(1)",
    "length,add(3)",
    "length,sub(txn.n)",
    "length,mul(-2)",
    "length,div(0)",
    "length,div(2)",
    "length,mod(3)",
    "length,mod(0)",
    "length,and(5)",
    "length,or(8)",
    "length,xor(3)",
    "length,neg",
    "length,cpl",
    "length,odd",
    "length,even",
    "length,not",
    "length,htonl,hex",
    // JSON and JWT.
    "json_query($.a)",
    "json_query($.n,int)",
    "json_query($.d)",
    "json_query($.b)",
    "json_query($.l[1])",
    "json_query($.o)",
    "jwt_header_query($.alg)",
    "jwt_payload_query($.sub)",
    "jwt_payload_query($.n,int)",
    "jwt_verify(HS256,secret)",
    "jwt_verify(HS256,wrong)",
];

/// An HS256 token with key `secret`: header `{"alg":"HS256","typ":"JWT"}`, payload
/// `{"sub":"1234567890","n":42}`.
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibiI6NDJ9.UIZchxQD36xuhacrJF9HQ5SpLUyfIv8w-TJlsVCySkk";

/// 149 bytes of key in base64, longer than every digest's block (HMAC hashes it first).
const LONG_KEY: &str = "QUFCQkNDRERFRUZGR0dISElJSkpLS0xMTU1OTk9PUFBRUVJSU1NUVFVVVlZXV1hYWVlaWmFhYmJjY2RkZWVmZmdnaGhpaWpqa2tsbG1tbm5vb3BwcXFycnNzdHR1dXZ2d3d4eHl5enoxMTIyMzM0NDU1NjY3Nzg4OTkwMCEhQEAjIyQkJSVeXiYmKiooKCkpLS1fXis=";

/// The inputs every converter sees.
const INPUTS: &[&[u8]] = &[
    b"Hello World",
    b"a/b//c/d",
    b"",
    b"12abc",
    b"-5",
    b"www.Example.com:8080",
    b"[::1]:443",
    b"abc",
    b"--abc::0",
    b"foo=bar+42 42 ?x+y %41",
    b"%zz",
    b"\xc3\xa9t\xe9",
    b"\xf0\x9f\x98\x80 \"q\" \\ \t",
    br#"{"a":"x\"y","n":4,"d":1.5e3,"b":true,"l":[1,"two"],"o":{}}"#,
    JWT.as_bytes(),
];

/// Where hapee knowingly answers differently: (expression, input, why).
const KNOWN_DIFFERENCES: &[(&str, &[u8], &str)] = &[(
    "req.fhdr(x-in),add(1)",
    b"\xc3\xa9t\xe9",
    "a header value that is not UTF-8 is a binary sample in hapee, and HAProxy reads no \
     integer from a binary sample; HAProxy's string sample holds any bytes",
)];

/// A frontend that evaluates `exprs` (each on `source`) and prints them one per line.
fn config(port: u16, source: &str, exprs: &[&str], extra: &str) -> String {
    let mut cfg = format!(
        "{DEFAULTS}\nlisten fe\n    bind 127.0.0.1:{port}\n    timeout server 7s\n{extra}\
         \x20   http-request set-var(txn.key) str(a2V5)\n\
         \x20   http-request set-var(txn.other) str(abc)\n\
         \x20   http-request set-var(txn.n) int(3)\n\
         \x20   http-request set-var(txn.long) str({LONG_KEY})\n"
    );
    for (i, e) in exprs.iter().enumerate() {
        cfg.push_str(&format!("    http-request set-var(txn.r{i}) {source}{e}\n"));
    }
    let lines: String = (0..exprs.len())
        .map(|i| format!("r{i}=%[var(txn.r{i})]\\n"))
        .collect();
    cfg.push_str(&format!(
        "    http-request return status 200 content-type text/plain lf-string \"{lines}\"\n"
    ));
    cfg
}

/// The body of the answer to a request with `head` (header lines).
fn ask(port: u16, head: &[u8]) -> String {
    let mut req =
        b"GET /p/a?n=12&x=y HTTP/1.1\r\nhost: h.example:81\r\nconnection: close\r\n".to_vec();
    req.extend_from_slice(head);
    req.extend_from_slice(b"\r\n");
    let answer = raw(port, &req, Duration::from_secs(10));
    answer
        .split_once("\r\n\r\n")
        .map_or(answer.clone(), |(_, body)| body.to_string())
}

/// Runs `exprs` on both proxies for each request head and compares the answers line by line.
fn compare(source: &str, exprs: &[&str], heads: &[Vec<u8>], extra: &str) {
    compare_env(source, exprs, heads, extra, &[]);
}

/// [`compare`] with haproxy given `env`.
fn compare_env(
    source: &str,
    exprs: &[&str],
    heads: &[Vec<u8>],
    extra: &str,
    env: &[(&str, &std::ffi::OsStr)],
) {
    if !Haproxy::installed() {
        return;
    }
    let (hp, ap) = (free_port(), free_port());
    let _hapee = Proxy::start(&config(hp, source, exprs, extra), hp);
    let _haproxy = Haproxy::start_program_env(
        std::path::Path::new("haproxy"),
        &config(ap, source, exprs, extra),
        ap,
        &["-db"],
        env,
    );
    let mut mismatches = Vec::new();
    for head in heads {
        let (ours, theirs) = (ask(hp, head), ask(ap, head));
        assert!(theirs.starts_with("r0="), "haproxy answered {theirs:?}");
        for (i, (o, t)) in ours.lines().zip(theirs.lines()).enumerate() {
            let expr = format!("{source}{}", exprs[i]);
            let known = KNOWN_DIFFERENCES
                .iter()
                .any(|(e, input, _)| *e == expr && head.windows(input.len()).any(|w| w == *input));
            if o != t && !known {
                mismatches.push(format!(
                    "{expr} on {:?}: hapee {o:?}, haproxy {t:?}",
                    String::from_utf8_lossy(head)
                ));
            }
        }
        assert_eq!(
            ours.lines().count(),
            theirs.lines().count(),
            "{ours}\n---\n{theirs}"
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn converters_answer_as_haproxy_does() {
    let heads: Vec<Vec<u8>> = INPUTS
        .iter()
        .map(|i| [b"x-in: ".as_slice(), i, b"\r\n"].concat())
        .collect();
    compare("req.fhdr(x-in),", CONVERTERS, &heads, "");
}

/// MD4 and whirlpool are in OpenSSL 3.0's legacy provider, which HAProxy uses when the
/// OpenSSL configuration loads it (without it their converters give no value there, while
/// hapee computes them): compared with haproxy under a configuration that loads it.
#[test]
fn legacy_digests_answer_as_haproxy_with_the_legacy_provider_does() {
    let dir = Scratch::dir(&format!("hapee-samples-ossl-{}", std::process::id()));
    let cnf = dir.join("legacy.cnf");
    std::fs::write(
        &cnf,
        "openssl_conf = init\n[init]\nproviders = providers\n[providers]\n\
         default = on\nlegacy = on\n[on]\nactivate = 1\n",
    )
    .unwrap();
    let exprs = [
        "digest(md4),hex",
        "digest(WHIRLPOOL),hex",
        "hmac(md4,a2V5),hex",
        "hmac(whirlpool,txn.long),hex",
    ];
    let heads: Vec<Vec<u8>> = [b"abc".as_slice(), b"", b"\xc3\xa9t\xe9"]
        .iter()
        .map(|i| [b"x-in: ".as_slice(), i, b"\r\n"].concat())
        .collect();
    let env = [("OPENSSL_CONF", cnf.as_os_str())];
    compare_env("req.fhdr(x-in),", &exprs, &heads, "", &env);
}

#[test]
fn map_converters_answer_as_haproxy_does() {
    let dir = Scratch::dir(&format!("hapee-samples-maps-{}", std::process::id()));
    // One file per match method: HAProxy shares its lookup cache between the methods of one
    // file, so that a second method may answer with the first one's match.
    let entries =
        "# key value\nexample.com 10\n/img 20\n^/a/([a-z]+)/(.*)$ /\\2/\\1\n10.0.0.0/8 30\nab 40\n";
    let file = |method: &str| {
        let path = dir.join(format!("{method}.map"));
        std::fs::write(&path, entries).unwrap();
        path.display().to_string()
    };
    let ints = dir.join("int.map");
    std::fs::write(&ints, "example.com 10\n/img 20\nab -40\n").unwrap();
    let ips = dir.join("ip.map");
    std::fs::write(
        &ips,
        "10.0.0.0/8 1.1.1.1\n10.1.0.0/16 2.2.2.2\n::1 3.3.3.3\n",
    )
    .unwrap();
    let (n, i) = (ints.display(), ips.display());
    let exprs: Vec<String> = [
        format!("map({},none)", file("str")),
        format!("map_beg({},none)", file("beg")),
        format!("map_sub({},none)", file("sub")),
        format!("map_end({},none)", file("end")),
        format!("map_dir({},none)", file("dir")),
        format!("map_dom({},none)", file("dom")),
        format!("map_reg({},none)", file("reg")),
        format!("map_regm({},none)", file("regm")),
        format!("map_str_int({n},-1)"),
        format!("map_beg_int({n})"),
        format!("map_ip({i},none)"),
        format!("map_ip_ip({i})"),
    ]
    .to_vec();
    let exprs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    let heads: Vec<Vec<u8>> = [
        "example.com",
        "www.example.com",
        "/img/x.png",
        "/a/path/rest/of",
        "zabz",
        "10.1.2.3",
        "10.2.2.3",
        "::1",
        "nothing",
    ]
    .iter()
    .map(|i| format!("x-in: {i}\r\n").into_bytes())
    .collect();
    compare("req.fhdr(x-in),", &exprs, &heads, "");
}

#[test]
fn fetches_answer_as_haproxy_does() {
    let exprs = [
        "path",
        "pathq",
        "query",
        "base",
        "baseq",
        "url_port",
        "urlp(n)",
        "urlp_val(n)",
        "req.ver",
        "req_ver",
        "capture.req.method",
        "capture.req.uri",
        "capture.req.ver",
        "req.cook(a)",
        "req.cook_cnt(a)",
        "req.cook_cnt()",
        "req.cook_val(b)",
        "cook(b)",
        "cook_cnt(a)",
        "cook_val(a)",
        "hdr(x-l)",
        "hdr(x-l,1)",
        "hdr(x-l,-1)",
        "req.fhdr(x-l)",
        "hdr_cnt(x-l)",
        "req.fhdr_cnt(x-l)",
        "hdr_val(x-n)",
        "http_auth_type",
        "http_auth_user",
        "http_auth_pass",
        "http_auth_bearer(x-tok)",
        "fe_name",
        "be_name",
        "fe_id",
        "be_id",
        "be_server_timeout",
        "be_tunnel_timeout",
        "fc_src",
        "fc_dst_port,sub(txn.port)",
        "bool(true)",
        "ipv4(10.1.2.3)",
        "ipv6(::1)",
        "bin(746F746F)",
        "meth(GET)",
        "int(12),add(txn.n)",
        "nbproc",
        "stopping",
        "uuid,length",
        "date,sub(1000000000),bool",
        "env(HOME)",
    ];
    let heads = [
        b"cookie: a=1; b=22x; a=3\r\nx-l: one, two\r\nx-l: three\r\nx-n: 17\r\nauthorization: Basic dXNlcjpwYXNz\r\nx-tok: Bearer abc.def\r\n".to_vec(),
        b"x-tok: Basic zzz\r\nauthorization: Bearer tok\r\n".to_vec(),
    ];
    let extra = "    timeout tunnel 9s\n    http-request set-var(txn.port) dst_port\n";
    compare("", &exprs, &heads, extra);
}
