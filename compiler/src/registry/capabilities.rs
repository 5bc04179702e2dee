//! HAProxy 2.7's sample capabilities: where in a transaction each fetch can be used. The
//! data follows src/sample.c (`fetch_cap`, `fetch_ckp_names`) and the fetch keyword tables of
//! HAProxy v2.7.0; a condition whose ACLs cannot be evaluated where it is used never
//! matches, and `haproxy -c` warns about it.

/// The places of a transaction where samples are fetched (HAProxy's check points), in
/// HAProxy's bit order, and the names its warnings give them.
pub const CHECKPOINTS: [&str; 22] = [
    "frontend tcp-request connection rule",
    "frontend tcp-request session rule",
    "frontend tcp-request content rule",
    "frontend http-request header rule",
    "frontend http-request body rule",
    "frontend use-backend rule",
    "backend tcp-request content rule",
    "backend http-request header rule",
    "backend http-request body rule",
    "backend use-server, balance or stick-match rule",
    "server source selection",
    "backend tcp-response content rule",
    "backend http-response header rule",
    "backend http-response body rule",
    "backend stick-store rule",
    "frontend tcp-response content rule",
    "frontend http-response header rule",
    "frontend http-response body rule",
    "logs",
    "backend tcp-check rule",
    "configuration parser",
    "CLI parser",
];

/// The check point bits, one per entry of `CHECKPOINTS`.
pub mod at {
    pub const FE_CON_ACC: u32 = 1 << 0;
    pub const FE_SES_ACC: u32 = 1 << 1;
    pub const FE_REQ_CNT: u32 = 1 << 2;
    pub const FE_HRQ_HDR: u32 = 1 << 3;
    pub const FE_HRQ_BDY: u32 = 1 << 4;
    pub const FE_SET_BCK: u32 = 1 << 5;
    pub const BE_REQ_CNT: u32 = 1 << 6;
    pub const BE_HRQ_HDR: u32 = 1 << 7;
    pub const BE_HRQ_BDY: u32 = 1 << 8;
    pub const BE_SET_SRV: u32 = 1 << 9;
    pub const BE_SRV_CON: u32 = 1 << 10;
    pub const BE_RES_CNT: u32 = 1 << 11;
    pub const BE_HRS_HDR: u32 = 1 << 12;
    pub const BE_HRS_BDY: u32 = 1 << 13;
    pub const BE_STO_RUL: u32 = 1 << 14;
    pub const FE_RES_CNT: u32 = 1 << 15;
    pub const FE_HRS_HDR: u32 = 1 << 16;
    pub const FE_HRS_BDY: u32 = 1 << 17;
    pub const FE_LOG_END: u32 = 1 << 18;
    pub const BE_CHK_RUL: u32 = 1 << 19;
    pub const CFG_PARSER: u32 = 1 << 20;
    pub const CLI_PARSER: u32 = 1 << 21;
}

/// The check point bits where each source of information is available, by source.
const SOURCE_PLACES: [u32; 23] = [
    0x003fffff, // CONST
    0x002fffff, // INTRN
    0x0007ffff, // LISTN
    0x0007ffff, // FTEND
    0x000fffff, // L4CLI
    0x0007fffe, // L5CLI
    0x0007ffff, // TRACK
    0x000007fc, // L6REQ
    0x000007fc, // HRQHV
    0x0007fffc, // HRQHP
    0x000007f0, // HRQBO
    0x000fffc0, // BKEND
    0x000ffc00, // SERVR
    0x000ff800, // L4SRV
    0x000ff800, // L5SRV
    0x000bf800, // L6RES
    0x000bf800, // HRSHV
    0x000ff800, // HRSHP
    0x000be000, // HRSBO
    0x00040000, // RQFIN
    0x00040000, // RSFIN
    0x00040000, // TXFIN
    0x00040000, // SSFIN
];

/// Each fetch and the sources of information it uses (bits indexing `SOURCE_PLACES`),
/// sorted by name.
const FETCH_SOURCES: &[(&str, u32)] = &[
    ("always_false", 0x1),
    ("always_true", 0x1),
    ("avg_queue", 0x2),
    ("base", 0x100),
    ("base32", 0x100),
    ("baseq", 0x100),
    ("bc_dst", 0x2000),
    ("bc_dst_port", 0x2000),
    ("bc_err", 0x2000),
    ("bc_err_str", 0x2000),
    ("bc_http_major", 0x2000),
    ("bc_src", 0x2000),
    ("bc_src_port", 0x2000),
    ("be_conn", 0x2),
    ("be_conn_free", 0x2),
    ("be_id", 0x800),
    ("be_name", 0x800),
    ("be_server_timeout", 0x800),
    ("be_sess_rate", 0x2),
    ("be_tunnel_timeout", 0x800),
    ("bin", 0x1),
    ("bool", 0x1),
    ("capture.req.hdr", 0x200),
    ("capture.req.method", 0x200),
    ("capture.req.uri", 0x200),
    ("capture.req.ver", 0x200),
    ("capture.res.hdr", 0x20000),
    ("capture.res.ver", 0x200),
    ("connslots", 0x2),
    ("cook", 0x100),
    ("cook_cnt", 0x100),
    ("cook_val", 0x100),
    ("cookie", 0x10100),
    ("cpu_calls", 0x2),
    ("cpu_ns_avg", 0x2),
    ("cpu_ns_tot", 0x2),
    ("cur_server_timeout", 0x800),
    ("cur_tunnel_timeout", 0x800),
    ("date", 0x1),
    ("date_us", 0x1),
    ("distcc_body", 0x8080),
    ("distcc_param", 0x8080),
    ("dst", 0x10),
    ("dst_conn", 0x8),
    ("dst_is_local", 0x10),
    ("dst_port", 0x10),
    ("env", 0x1),
    ("fc_dst", 0x10),
    ("fc_dst_is_local", 0x10),
    ("fc_dst_port", 0x10),
    ("fc_err", 0x10),
    ("fc_err_str", 0x10),
    ("fc_fackets", 0x10),
    ("fc_http_major", 0x10),
    ("fc_lost", 0x10),
    ("fc_pp_authority", 0x10),
    ("fc_pp_unique_id", 0x10),
    ("fc_rcvd_proxy", 0x10),
    ("fc_reordering", 0x10),
    ("fc_retrans", 0x10),
    ("fc_rtt", 0x10),
    ("fc_rttvar", 0x10),
    ("fc_sacked", 0x10),
    ("fc_src", 0x10),
    ("fc_src_is_local", 0x10),
    ("fc_src_port", 0x10),
    ("fc_unacked", 0x10),
    ("fcgi.docroot", 0x100),
    ("fcgi.index", 0x100),
    ("fe_client_timeout", 0x8),
    ("fe_conn", 0x2),
    ("fe_defbe", 0x8),
    ("fe_id", 0x8),
    ("fe_name", 0x8),
    ("fe_req_rate", 0x2),
    ("fe_sess_rate", 0x2),
    ("hdr", 0x10100),
    ("hdr_cnt", 0x100),
    ("hdr_ip", 0x100),
    ("hdr_val", 0x100),
    ("hostname", 0x1),
    ("http_auth", 0x100),
    ("http_auth_bearer", 0x100),
    ("http_auth_group", 0x100),
    ("http_auth_pass", 0x100),
    ("http_auth_type", 0x100),
    ("http_auth_user", 0x100),
    ("http_first_req", 0x200),
    ("int", 0x1),
    ("internal.htx.data", 0x10100),
    ("internal.htx.free", 0x10100),
    ("internal.htx.free_data", 0x10100),
    ("internal.htx.has_eom", 0x10100),
    ("internal.htx.nbblks", 0x10100),
    ("internal.htx.size", 0x10100),
    ("internal.htx.used", 0x10100),
    ("internal.htx_blk.data", 0x10100),
    ("internal.htx_blk.hdrname", 0x10100),
    ("internal.htx_blk.hdrval", 0x10100),
    ("internal.htx_blk.size", 0x10100),
    ("internal.htx_blk.start_line", 0x10100),
    ("internal.htx_blk.type", 0x10100),
    ("internal.strm.is_htx", 0x2),
    ("ipv4", 0x1),
    ("ipv6", 0x1),
    ("last_rule_file", 0x2),
    ("last_rule_line", 0x2),
    ("lat_ns_avg", 0x2),
    ("lat_ns_tot", 0x2),
    ("meth", 0x1),
    ("method", 0x200),
    ("nbproc", 0x1),
    ("nbsrv", 0x2),
    ("path", 0x100),
    ("pathq", 0x100),
    ("payload", 0x8080),
    ("payload_lv", 0x8080),
    ("prio_class", 0x2),
    ("prio_offset", 0x2),
    ("proc", 0x1),
    ("query", 0x100),
    ("queue", 0x2),
    ("rand", 0x1),
    ("rdp_cookie", 0x80),
    ("rdp_cookie_cnt", 0x80),
    ("rep_ssl_hello_type", 0x8000),
    ("req.body", 0x100),
    ("req.body_len", 0x100),
    ("req.body_param", 0x100),
    ("req.body_size", 0x100),
    ("req.cook", 0x100),
    ("req.cook_cnt", 0x100),
    ("req.cook_val", 0x100),
    ("req.fhdr", 0x100),
    ("req.fhdr_cnt", 0x100),
    ("req.hdr", 0x100),
    ("req.hdr_cnt", 0x100),
    ("req.hdr_ip", 0x100),
    ("req.hdr_names", 0x100),
    ("req.hdr_val", 0x100),
    ("req.hdrs", 0x100),
    ("req.hdrs_bin", 0x100),
    ("req.len", 0x80),
    ("req.payload", 0x80),
    ("req.payload_lv", 0x80),
    ("req.proto_http", 0x200),
    ("req.rdp_cookie", 0x80),
    ("req.rdp_cookie_cnt", 0x80),
    ("req.ssl_alpn", 0x80),
    ("req.ssl_ec_ext", 0x80),
    ("req.ssl_hello_type", 0x80),
    ("req.ssl_sni", 0x80),
    ("req.ssl_st_ext", 0x80),
    ("req.ssl_ver", 0x80),
    ("req.ver", 0x100),
    ("req_len", 0x80),
    ("req_proto_http", 0x200),
    ("req_ssl_hello_type", 0x80),
    ("req_ssl_sni", 0x80),
    ("req_ssl_ver", 0x80),
    ("req_ver", 0x100),
    ("res.body", 0x10000),
    ("res.body_len", 0x10000),
    ("res.body_size", 0x10000),
    ("res.comp", 0x20000),
    ("res.comp_algo", 0x20000),
    ("res.cook", 0x10000),
    ("res.cook_cnt", 0x10000),
    ("res.cook_val", 0x10000),
    ("res.fhdr", 0x10000),
    ("res.fhdr_cnt", 0x10000),
    ("res.hdr", 0x10000),
    ("res.hdr_cnt", 0x10000),
    ("res.hdr_ip", 0x10000),
    ("res.hdr_names", 0x10000),
    ("res.hdr_val", 0x10000),
    ("res.hdrs", 0x10000),
    ("res.hdrs_bin", 0x10000),
    ("res.len", 0x8000),
    ("res.payload", 0x8000),
    ("res.payload_lv", 0x8000),
    ("res.ssl_hello_type", 0x8000),
    ("res.ver", 0x10000),
    ("resp_ver", 0x10000),
    ("sc0_bytes_in_rate", 0x2),
    ("sc0_bytes_out_rate", 0x2),
    ("sc0_clr_gpc0", 0x2),
    ("sc0_clr_gpc1", 0x2),
    ("sc0_conn_cnt", 0x2),
    ("sc0_conn_cur", 0x2),
    ("sc0_conn_rate", 0x2),
    ("sc0_get_gpc0", 0x2),
    ("sc0_get_gpc1", 0x2),
    ("sc0_get_gpt0", 0x2),
    ("sc0_gpc0_rate", 0x2),
    ("sc0_gpc1_rate", 0x2),
    ("sc0_http_err_cnt", 0x2),
    ("sc0_http_err_rate", 0x2),
    ("sc0_http_fail_cnt", 0x2),
    ("sc0_http_fail_rate", 0x2),
    ("sc0_http_req_cnt", 0x2),
    ("sc0_http_req_rate", 0x2),
    ("sc0_inc_gpc0", 0x2),
    ("sc0_inc_gpc1", 0x2),
    ("sc0_kbytes_in", 0x10),
    ("sc0_kbytes_out", 0x10),
    ("sc0_sess_cnt", 0x2),
    ("sc0_sess_rate", 0x2),
    ("sc0_tracked", 0x2),
    ("sc0_trackers", 0x2),
    ("sc1_bytes_in_rate", 0x2),
    ("sc1_bytes_out_rate", 0x2),
    ("sc1_clr_gpc", 0x2),
    ("sc1_clr_gpc0", 0x2),
    ("sc1_clr_gpc1", 0x2),
    ("sc1_conn_cnt", 0x2),
    ("sc1_conn_cur", 0x2),
    ("sc1_conn_rate", 0x2),
    ("sc1_get_gpc0", 0x2),
    ("sc1_get_gpc1", 0x2),
    ("sc1_get_gpt0", 0x2),
    ("sc1_gpc0_rate", 0x2),
    ("sc1_gpc1_rate", 0x2),
    ("sc1_http_err_cnt", 0x2),
    ("sc1_http_err_rate", 0x2),
    ("sc1_http_fail_cnt", 0x2),
    ("sc1_http_fail_rate", 0x2),
    ("sc1_http_req_cnt", 0x2),
    ("sc1_http_req_rate", 0x2),
    ("sc1_inc_gpc0", 0x2),
    ("sc1_inc_gpc1", 0x2),
    ("sc1_kbytes_in", 0x10),
    ("sc1_kbytes_out", 0x10),
    ("sc1_sess_cnt", 0x2),
    ("sc1_sess_rate", 0x2),
    ("sc1_tracked", 0x2),
    ("sc1_trackers", 0x2),
    ("sc2_bytes_in_rate", 0x2),
    ("sc2_bytes_out_rate", 0x2),
    ("sc2_clr_gpc0", 0x2),
    ("sc2_clr_gpc1", 0x2),
    ("sc2_conn_cnt", 0x2),
    ("sc2_conn_cur", 0x2),
    ("sc2_conn_rate", 0x2),
    ("sc2_get_gpc0", 0x2),
    ("sc2_get_gpc1", 0x2),
    ("sc2_get_gpt0", 0x2),
    ("sc2_gpc0_rate", 0x2),
    ("sc2_gpc1_rate", 0x2),
    ("sc2_http_err_cnt", 0x2),
    ("sc2_http_err_rate", 0x2),
    ("sc2_http_fail_cnt", 0x2),
    ("sc2_http_fail_rate", 0x2),
    ("sc2_http_req_cnt", 0x2),
    ("sc2_http_req_rate", 0x2),
    ("sc2_inc_gpc0", 0x2),
    ("sc2_inc_gpc1", 0x2),
    ("sc2_kbytes_in", 0x10),
    ("sc2_kbytes_out", 0x10),
    ("sc2_sess_cnt", 0x2),
    ("sc2_sess_rate", 0x2),
    ("sc2_tracked", 0x2),
    ("sc2_trackers", 0x2),
    ("sc_bytes_in_rate", 0x2),
    ("sc_bytes_out_rate", 0x2),
    ("sc_clr_gpc", 0x2),
    ("sc_clr_gpc0", 0x2),
    ("sc_clr_gpc1", 0x2),
    ("sc_conn_cnt", 0x2),
    ("sc_conn_cur", 0x2),
    ("sc_conn_rate", 0x2),
    ("sc_get_gpc", 0x2),
    ("sc_get_gpc0", 0x2),
    ("sc_get_gpc1", 0x2),
    ("sc_get_gpt", 0x2),
    ("sc_get_gpt0", 0x2),
    ("sc_gpc0_rate", 0x2),
    ("sc_gpc1_rate", 0x2),
    ("sc_gpc_rate", 0x2),
    ("sc_http_err_cnt", 0x2),
    ("sc_http_err_rate", 0x2),
    ("sc_http_fail_cnt", 0x2),
    ("sc_http_fail_rate", 0x2),
    ("sc_http_req_cnt", 0x2),
    ("sc_http_req_rate", 0x2),
    ("sc_inc_gpc", 0x2),
    ("sc_inc_gpc0", 0x2),
    ("sc_inc_gpc1", 0x2),
    ("sc_kbytes_in", 0x10),
    ("sc_kbytes_out", 0x10),
    ("sc_sess_cnt", 0x2),
    ("sc_sess_rate", 0x2),
    ("sc_tracked", 0x2),
    ("sc_trackers", 0x2),
    ("scook", 0x10000),
    ("scook_cnt", 0x10000),
    ("scook_val", 0x10000),
    ("shdr", 0x10000),
    ("shdr_cnt", 0x10000),
    ("shdr_ip", 0x10000),
    ("shdr_val", 0x10000),
    ("so_id", 0x8),
    ("so_name", 0x8),
    ("src", 0x10),
    ("src_bytes_in_rate", 0x10),
    ("src_bytes_out_rate", 0x10),
    ("src_clr_gpc", 0x10),
    ("src_clr_gpc0", 0x10),
    ("src_clr_gpc1", 0x10),
    ("src_conn_cnt", 0x10),
    ("src_conn_cur", 0x10),
    ("src_conn_rate", 0x10),
    ("src_get_gpc", 0x10),
    ("src_get_gpc0", 0x10),
    ("src_get_gpc1", 0x10),
    ("src_get_gpt0", 0x10),
    ("src_gpc0_rate", 0x10),
    ("src_gpc1_rate", 0x10),
    ("src_gpc_rate", 0x10),
    ("src_http_err_cnt", 0x10),
    ("src_http_err_rate", 0x10),
    ("src_http_fail_cnt", 0x10),
    ("src_http_fail_rate", 0x10),
    ("src_http_req_cnt", 0x10),
    ("src_http_req_rate", 0x10),
    ("src_inc_gpc", 0x10),
    ("src_inc_gpc0", 0x10),
    ("src_inc_gpc1", 0x10),
    ("src_is_local", 0x10),
    ("src_kbytes_in", 0x10),
    ("src_kbytes_out", 0x10),
    ("src_port", 0x10),
    ("src_sess_cnt", 0x10),
    ("src_sess_rate", 0x10),
    ("src_updt_conn_cnt", 0x10),
    ("srv_conn", 0x2),
    ("srv_conn_free", 0x2),
    ("srv_id", 0x1000),
    ("srv_is_up", 0x2),
    ("srv_iweight", 0x2),
    ("srv_name", 0x1000),
    ("srv_queue", 0x2),
    ("srv_sess_rate", 0x2),
    ("srv_uweight", 0x2),
    ("srv_weight", 0x2),
    ("ssl_bc", 0x4000),
    ("ssl_bc_alg_keysize", 0x4000),
    ("ssl_bc_alpn", 0x4000),
    ("ssl_bc_cipher", 0x4000),
    ("ssl_bc_client_random", 0x4000),
    ("ssl_bc_err", 0x4000),
    ("ssl_bc_err_str", 0x4000),
    ("ssl_bc_is_resumed", 0x4000),
    ("ssl_bc_npn", 0x4000),
    ("ssl_bc_protocol", 0x4000),
    ("ssl_bc_server_random", 0x4000),
    ("ssl_bc_session_id", 0x4000),
    ("ssl_bc_session_key", 0x4000),
    ("ssl_bc_unique_id", 0x4000),
    ("ssl_bc_use_keysize", 0x4000),
    ("ssl_c_ca_err", 0x20),
    ("ssl_c_ca_err_depth", 0x20),
    ("ssl_c_chain_der", 0x20),
    ("ssl_c_der", 0x20),
    ("ssl_c_err", 0x20),
    ("ssl_c_i_dn", 0x20),
    ("ssl_c_key_alg", 0x20),
    ("ssl_c_notafter", 0x20),
    ("ssl_c_notbefore", 0x20),
    ("ssl_c_s_dn", 0x20),
    ("ssl_c_serial", 0x20),
    ("ssl_c_sha1", 0x20),
    ("ssl_c_sig_alg", 0x20),
    ("ssl_c_used", 0x20),
    ("ssl_c_verify", 0x20),
    ("ssl_c_version", 0x20),
    ("ssl_f_der", 0x20),
    ("ssl_f_i_dn", 0x20),
    ("ssl_f_key_alg", 0x20),
    ("ssl_f_notafter", 0x20),
    ("ssl_f_notbefore", 0x20),
    ("ssl_f_s_dn", 0x20),
    ("ssl_f_serial", 0x20),
    ("ssl_f_sha1", 0x20),
    ("ssl_f_sig_alg", 0x20),
    ("ssl_f_version", 0x20),
    ("ssl_fc", 0x20),
    ("ssl_fc_alg_keysize", 0x20),
    ("ssl_fc_alpn", 0x20),
    ("ssl_fc_cipher", 0x20),
    ("ssl_fc_cipherlist_bin", 0x20),
    ("ssl_fc_cipherlist_hex", 0x20),
    ("ssl_fc_cipherlist_str", 0x20),
    ("ssl_fc_cipherlist_xxh", 0x20),
    ("ssl_fc_client_early_traffic_secret", 0x20),
    ("ssl_fc_client_handshake_traffic_secret", 0x20),
    ("ssl_fc_client_random", 0x20),
    ("ssl_fc_client_traffic_secret_0", 0x20),
    ("ssl_fc_early_exporter_secret", 0x20),
    ("ssl_fc_ecformats_bin", 0x20),
    ("ssl_fc_eclist_bin", 0x20),
    ("ssl_fc_err", 0x20),
    ("ssl_fc_err_str", 0x20),
    ("ssl_fc_exporter_secret", 0x20),
    ("ssl_fc_extlist_bin", 0x20),
    ("ssl_fc_has_crt", 0x20),
    ("ssl_fc_has_early", 0x20),
    ("ssl_fc_has_sni", 0x20),
    ("ssl_fc_is_resumed", 0x20),
    ("ssl_fc_npn", 0x20),
    ("ssl_fc_protocol", 0x20),
    ("ssl_fc_protocol_hello_id", 0x20),
    ("ssl_fc_server_handshake_traffic_secret", 0x20),
    ("ssl_fc_server_random", 0x20),
    ("ssl_fc_server_traffic_secret_0", 0x20),
    ("ssl_fc_session_id", 0x20),
    ("ssl_fc_session_key", 0x20),
    ("ssl_fc_sni", 0x20),
    ("ssl_fc_unique_id", 0x20),
    ("ssl_fc_use_keysize", 0x20),
    ("ssl_s_chain_der", 0x20),
    ("ssl_s_der", 0x20),
    ("ssl_s_i_dn", 0x20),
    ("ssl_s_key_alg", 0x20),
    ("ssl_s_notafter", 0x20),
    ("ssl_s_notbefore", 0x20),
    ("ssl_s_s_dn", 0x20),
    ("ssl_s_serial", 0x20),
    ("ssl_s_sha1", 0x20),
    ("ssl_s_sig_alg", 0x20),
    ("ssl_s_version", 0x20),
    ("status", 0x20000),
    ("stopping", 0x2),
    ("str", 0x1),
    ("table_avl", 0x2),
    ("table_cnt", 0x2),
    ("thread", 0x1),
    ("url", 0x100),
    ("url32", 0x100),
    ("url_ip", 0x100),
    ("url_param", 0x100),
    ("url_port", 0x100),
    ("urlp_val", 0x100),
    ("uuid", 0x1),
    ("var", 0x1),
    ("wait_end", 0x2),
];

/// HAProxy's names of the sources of information, in bit order (`fetch_src_names`); constants
/// have none since they are available everywhere.
const SOURCE_NAMES: [&str; 23] = [
    "",
    "internal state",
    "listener",
    "frontend",
    "client address",
    "client-side connection",
    "track counters",
    "request buffer",
    "HTTP request headers",
    "HTTP request",
    "HTTP request body",
    "backend",
    "server",
    "server address",
    "server-side connection",
    "response buffer",
    "HTTP response headers",
    "HTTP response",
    "HTTP response body",
    "request buffer statistics",
    "response buffer statistics",
    "transaction statistics",
    "session statistics",
];

/// The sources of information fetch `name` uses (bits indexing `SOURCE_PLACES`); `None` for
/// a fetch not in the table.
pub fn fetch_sources(name: &str) -> Option<u32> {
    fetch_row(name).map(|&(sources, _)| sources)
}

/// The sources and check points of fetch `name`, from one look-up (every condition of a
/// configuration asks for them).
fn fetch_row(name: &str) -> Option<&'static (u32, u32)> {
    static ROWS: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, (u32, u32)>> =
        std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        FETCH_SOURCES
            .iter()
            .map(|&(name, sources)| (name, (sources, places_of(sources))))
            .collect()
    })
    .get(name)
}

/// The check points where a fetch reading `sources` can be used.
fn places_of(sources: u32) -> u32 {
    SOURCE_PLACES
        .iter()
        .enumerate()
        .filter(|(bit, _)| sources & (1 << bit) != 0)
        .fold(0, |places, (_, p)| places | p)
}

/// The check points where fetch `name` can be used; `None` for a fetch not in the table.
pub fn fetch_places(name: &str) -> Option<u32> {
    fetch_row(name).map(|&(_, places)| places)
}

/// The check points of the response's side: its content and HTTP rules, a backend's
/// stick-store rules.
pub const RESPONSE_SIDE: u32 = at::BE_RES_CNT
    | at::BE_HRS_HDR
    | at::BE_HRS_BDY
    | at::BE_STO_RUL
    | at::FE_RES_CNT
    | at::FE_HRS_HDR
    | at::FE_HRS_BDY;

/// The check points of the request's side, from the connection's acceptance to the server
/// connection's source.
pub const REQUEST_SIDE: u32 = (at::BE_SRV_CON << 1) - 1;

/// The side samples fetched at check points `places` are fetched for (HAProxy's
/// `SMP_OPT_DIR_*`): `Some(true)` the response's at response points only, `Some(false)` the
/// request's at request points only. Logs and scripts outside rules (`places` naming every
/// point) fetch for neither in particular.
pub fn side(places: u32) -> Option<bool> {
    match (places & REQUEST_SIDE != 0, places & RESPONSE_SIDE != 0) {
        (false, true) if places & !RESPONSE_SIDE == 0 => Some(true),
        (true, false) if places & !REQUEST_SIDE == 0 => Some(false),
        _ => None,
    }
}

/// Whether samples fetched at check points `places` are fetched for the response (see
/// [`side`]).
pub fn for_response(places: u32) -> bool {
    side(places) == Some(true)
}

/// Source bits of what HAProxy reads from an HTTP message's buffer (the volatile parts:
/// line, headers, body), which the channel no longer holds once forwarded: the request's
/// (HRQHV, HRQBO) and the response's (HRSHV, HRSBO). The permanent parts (HRQHP, HRSHP:
/// method, status, captures) are kept in the transaction.
const REQUEST_BUFFER: u32 = 1 << 8 | 1 << 10;
const RESPONSE_BUFFER: u32 = 1 << 16 | 1 << 18;

/// What fetch `name` reads when fetched for the response, as HAProxy's HTTP fetches read
/// the channel of the direction they run for: one reading both messages' buffers (`hdr`,
/// `cookie`) reads the response's; one reading only the request's buffer finds nothing
/// (HAProxy refuses the request channel in that direction, and the request was forwarded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForResponse {
    /// As at any other point.
    Same,
    /// The response's message instead of the request's.
    Response,
    /// Nothing.
    Nothing,
}

/// See [`ForResponse`]; `Same` for a fetch not in the table.
pub fn for_response_reads(name: &str) -> ForResponse {
    let Some(sources) = fetch_sources(name) else {
        return ForResponse::Same;
    };
    match (
        sources & REQUEST_BUFFER != 0,
        sources & RESPONSE_BUFFER != 0,
    ) {
        (true, true) => ForResponse::Response,
        (true, false) => ForResponse::Nothing,
        _ => ForResponse::Same,
    }
}

/// Whether fetch `name` reads the HTTP request (its line, headers or body): in TCP mode
/// HAProxy parses the client's held bytes as one for it.
pub fn reads_http_request(name: &str) -> bool {
    // HRQHV, HRQHP and HRQBO.
    fetch_sources(name).is_some_and(|s| s & (0x7 << 8) != 0)
}

/// Whether fetch `name` reads the raw bytes of a connection's request or response (L6REQ,
/// L6RES): what HTTP proxies ignore.
pub fn reads_layer6(name: &str) -> bool {
    fetch_sources(name).is_some_and(|s| s & LAYER6 != 0)
}

/// Source bits of the raw bytes of a connection's request or response (L6REQ, L6RES).
pub const LAYER6: u32 = 1 << 7 | 1 << 15;
/// Source bits of what the client sent: its raw bytes (L6REQ) and the HTTP request (HRQHV,
/// HRQHP, HRQBO).
pub const REQUEST_CONTENTS: u32 = 1 << 7 | 0x7 << 8;
/// Source bits of an HTTP message, request or response (HRQHV, HRQHP, HRQBO, HRSHV, HRSHP,
/// HRSBO).
pub const HTTP: u32 = 0x7 << 8 | 0x7 << 16;

/// Whether fetch `name` reads what the client sent: the raw bytes of its request (L6REQ) or
/// the HTTP request (HRQHV, HRQHP, HRQBO).
pub fn reads_request_contents(name: &str) -> bool {
    fetch_sources(name).is_some_and(|s| s & REQUEST_CONTENTS != 0)
}

/// Whether fetch `name` reads an HTTP message, request or response (line, headers or body):
/// HAProxy's Lua services may not call such fetches.
pub fn reads_http(name: &str) -> bool {
    fetch_sources(name).is_some_and(|s| s & HTTP != 0)
}

/// When fetch `name` cannot be used at any of the check points `places`: what it needs, named
/// as HAProxy names its sources (`sample_src_names`: comma-separated). `None` when it can be
/// used there, or is not in the table.
pub fn missing_sources(name: &str, places: u32) -> Option<String> {
    if fetch_places(name)? & places != 0 {
        return None;
    }
    let sources = fetch_sources(name)?;
    let names: Vec<&str> = SOURCE_NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| sources & (1 << bit) != 0)
        .map(|(_, n)| *n)
        .collect();
    Some(names.join(","))
}

/// How HAProxy's SPOE messages name what a fetch reads: its source bits read as check
/// points (the first one's name), which is what `flt_spoe.c` prints.
pub fn sources_as_place(name: &str) -> Option<&'static str> {
    fetch_sources(name).map(place_name)
}

/// The name of the first check point among `places` (HAProxy's `sample_ckp_names`).
pub fn place_name(places: u32) -> &'static str {
    (0..CHECKPOINTS.len())
        .find(|bit| places & (1 << bit) != 0)
        .map_or("unknown sample check place", |bit| CHECKPOINTS[bit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_side_samples_are_fetched_for() {
        let request_rules = at::FE_HRQ_HDR | at::BE_HRQ_HDR;
        let response_rules = at::FE_HRS_HDR | at::BE_HRS_HDR;
        assert_eq!(side(request_rules), Some(false));
        assert_eq!(side(at::FE_CON_ACC), Some(false));
        assert_eq!(side(response_rules), Some(true));
        assert_eq!(side(at::BE_STO_RUL), Some(true));
        // Logs and scripts outside rules: neither.
        assert_eq!(side(u32::MAX), None);
        assert_eq!(side(at::BE_CHK_RUL), None);
        assert!(for_response(response_rules) && !for_response(request_rules));
        // Fetched for the response: `hdr` reads it, `path` (the request's buffer) nothing,
        // `method` (kept in the transaction) as anywhere.
        assert_eq!(for_response_reads("hdr"), ForResponse::Response);
        assert_eq!(for_response_reads("cookie"), ForResponse::Response);
        assert_eq!(for_response_reads("path"), ForResponse::Nothing);
        assert_eq!(for_response_reads("req.hdr"), ForResponse::Nothing);
        assert_eq!(for_response_reads("method"), ForResponse::Same);
        assert_eq!(for_response_reads("res.hdr"), ForResponse::Same);
        assert_eq!(for_response_reads("src"), ForResponse::Same);
    }

    #[test]
    fn fetches_reading_http_messages() {
        assert!(reads_http("req.hdr"));
        assert!(reads_http("res.hdr"));
        assert!(reads_http("method"));
        assert!(!reads_http("src"));
        assert!(!reads_http("nosuchfetch"));
    }

    #[test]
    fn log_time_sources() {
        assert_eq!(
            missing_sources("req.ssl_alpn", at::FE_LOG_END).as_deref(),
            Some("request buffer")
        );
        assert_eq!(
            missing_sources("req.hdr", at::FE_LOG_END).as_deref(),
            Some("HTTP request headers")
        );
        assert_eq!(
            missing_sources("hdr", at::FE_LOG_END).as_deref(),
            Some("HTTP request headers,HTTP response headers")
        );
        assert_eq!(missing_sources("capture.req.hdr", at::FE_LOG_END), None);
        assert_eq!(missing_sources("src", at::FE_LOG_END), None);
        assert_eq!(missing_sources("req.hdr", at::FE_HRQ_HDR), None);
    }
}
