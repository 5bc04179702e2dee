//! Integration tests of `hapee-lb run`: real sockets, a real proxy process, real clients
//! (curl and raw TCP), real origin servers.

#[path = "runtime/abort_on_close.rs"]
mod abort_on_close;
#[path = "runtime/admin_reports.rs"]
mod admin_reports;
#[path = "runtime/answer_framing.rs"]
mod answer_framing;
#[path = "runtime/api.rs"]
mod api;
#[path = "runtime/api_parity.rs"]
mod api_parity;
#[path = "runtime/api_ssl.rs"]
mod api_ssl;
#[path = "runtime/api_trace.rs"]
mod api_trace;
#[path = "runtime/backends.rs"]
mod backends;
#[path = "runtime/bind_options.rs"]
mod bind_options;
#[path = "runtime/bodies.rs"]
mod bodies;
#[path = "runtime/bwlim.rs"]
mod bwlim;
#[path = "runtime/byte_strings.rs"]
mod byte_strings;
#[path = "runtime/check_spread.rs"]
mod check_spread;
#[path = "runtime/check_tls_files.rs"]
mod check_tls_files;
#[path = "runtime/checkcache.rs"]
mod checkcache;
#[path = "runtime/checks.rs"]
mod checks;
#[path = "runtime/checks_reports.rs"]
mod checks_reports;
#[path = "runtime/cleartext_h2.rs"]
mod cleartext_h2;
#[path = "runtime/client_sweep.rs"]
mod client_sweep;
#[path = "runtime/client_timeout_waits.rs"]
mod client_timeout_waits;
#[path = "runtime/close_spread.rs"]
mod close_spread;
#[path = "runtime/compression.rs"]
mod compression;
#[path = "runtime/compression_limits.rs"]
mod compression_limits;
#[path = "runtime/conn_actions.rs"]
mod conn_actions;
#[path = "runtime/connect_local.rs"]
mod connect_local;
#[path = "runtime/connect_timeouts.rs"]
mod connect_timeouts;
#[path = "runtime/content_http.rs"]
mod content_http;
#[path = "runtime/corpus_features.rs"]
mod corpus_features;
#[path = "runtime/default_path.rs"]
mod default_path;
#[path = "runtime/direct.rs"]
mod direct;
#[path = "runtime/discovery.rs"]
mod discovery;
#[path = "runtime/discovery_cycle.rs"]
mod discovery_cycle;
#[path = "runtime/discovery_dns.rs"]
mod discovery_dns;
#[path = "runtime/discovery_srv_reports.rs"]
mod discovery_srv_reports;
#[path = "runtime/discovery_srv_rules.rs"]
mod discovery_srv_rules;
#[path = "runtime/do_resolve.rs"]
mod do_resolve;
#[path = "runtime/early_hint.rs"]
mod early_hint;
#[path = "runtime/edge_triggered.rs"]
mod edge_triggered;
#[path = "runtime/env_addresses.rs"]
mod env_addresses;
#[path = "runtime/error_pages_wire.rs"]
mod error_pages_wire;
#[path = "runtime/example.rs"]
mod example;
#[path = "runtime/external_check.rs"]
mod external_check;
#[path = "runtime/fcgi.rs"]
mod fcgi;
#[path = "runtime/filters.rs"]
mod filters;
#[path = "runtime/first_bytes_reuse.rs"]
mod first_bytes_reuse;
#[path = "runtime/framing_close.rs"]
mod framing_close;
#[path = "runtime/fullconn.rs"]
mod fullconn;
#[path = "runtime/global_tunes.rs"]
mod global_tunes;
#[path = "runtime/global_wire_settings.rs"]
mod global_wire_settings;
#[path = "runtime/h2_buffers.rs"]
mod h2_buffers;
#[path = "runtime/h2_client_ends.rs"]
mod h2_client_ends;
#[path = "runtime/h2_client_frames.rs"]
mod h2_client_frames;
#[path = "runtime/h2_client_limits.rs"]
mod h2_client_limits;
#[path = "runtime/h2_clients.rs"]
mod h2_clients;
#[path = "runtime/h2_pools.rs"]
mod h2_pools;
#[path = "runtime/h2_pools_never.rs"]
mod h2_pools_never;
#[path = "runtime/h2_pools_tls.rs"]
mod h2_pools_tls;
#[path = "runtime/h2_reload.rs"]
mod h2_reload;
#[path = "runtime/h2_servers.rs"]
mod h2_servers;
#[path = "runtime/h2_wire.rs"]
mod h2_wire;
#[path = "runtime/h3.rs"]
mod h3;
#[path = "runtime/h3_early.rs"]
mod h3_early;
#[path = "runtime/handover.rs"]
mod handover;
#[path = "runtime/hardening.rs"]
mod hardening;
#[path = "runtime/harness.rs"]
mod harness;
#[path = "runtime/hostile.rs"]
mod hostile;
#[path = "runtime/http_protocol.rs"]
mod http_protocol;
#[path = "runtime/http_rules.rs"]
mod http_rules;
#[path = "runtime/httpclient_settings.rs"]
mod httpclient_settings;
#[path = "runtime/htx_fetches.rs"]
mod htx_fetches;
#[path = "runtime/idle_pools.rs"]
mod idle_pools;
#[path = "runtime/inspect.rs"]
mod inspect;
#[path = "runtime/leastconn_order.rs"]
mod leastconn_order;
#[path = "runtime/listener_fetches.rs"]
mod listener_fetches;
#[path = "runtime/listener_shards.rs"]
mod listener_shards;
#[path = "runtime/log_early.rs"]
mod log_early;
#[path = "runtime/log_end_figures.rs"]
mod log_end_figures;
#[path = "runtime/log_fields.rs"]
mod log_fields;
#[path = "runtime/log_forward_headers.rs"]
mod log_forward_headers;
#[path = "runtime/log_quic_counts.rs"]
mod log_quic_counts;
#[path = "runtime/log_send_failures.rs"]
mod log_send_failures;
#[path = "runtime/log_stream_numbers.rs"]
mod log_stream_numbers;
#[path = "runtime/log_tags.rs"]
mod log_tags;
#[path = "runtime/log_targets.rs"]
mod log_targets;
#[path = "runtime/log_tunnels.rs"]
mod log_tunnels;
#[path = "runtime/logasap.rs"]
mod logasap;
#[path = "runtime/lua.rs"]
mod lua;
#[path = "runtime/lua_act.rs"]
mod lua_act;
#[path = "runtime/lua_channel.rs"]
mod lua_channel;
#[path = "runtime/lua_errors.rs"]
mod lua_errors;
#[path = "runtime/lua_expired.rs"]
mod lua_expired;
#[path = "runtime/lua_filter_directions.rs"]
mod lua_filter_directions;
#[path = "runtime/lua_filter_eom.rs"]
mod lua_filter_eom;
#[path = "runtime/lua_filter_hold.rs"]
mod lua_filter_hold;
#[path = "runtime/lua_filter_service.rs"]
mod lua_filter_service;
#[path = "runtime/lua_filter_share.rs"]
mod lua_filter_share;
#[path = "runtime/lua_filter_wake.rs"]
mod lua_filter_wake;
#[path = "runtime/lua_filters.rs"]
mod lua_filters;
#[path = "runtime/lua_header_order.rs"]
mod lua_header_order;
#[path = "runtime/lua_http10.rs"]
mod lua_http10;
#[path = "runtime/lua_logs.rs"]
mod lua_logs;
#[path = "runtime/lua_public.rs"]
mod lua_public;
#[path = "runtime/lua_registration.rs"]
mod lua_registration;
#[path = "runtime/lua_regtests.rs"]
mod lua_regtests;
#[path = "runtime/lua_runtime_api.rs"]
mod lua_runtime_api;
#[path = "runtime/lua_shapes.rs"]
mod lua_shapes;
#[path = "runtime/lua_sides.rs"]
mod lua_sides;
#[path = "runtime/lua_stktable.rs"]
mod lua_stktable;
#[path = "runtime/lua_surface.rs"]
mod lua_surface;
#[path = "runtime/lua_table_order.rs"]
mod lua_table_order;
#[path = "runtime/lua_tcp_reply.rs"]
mod lua_tcp_reply;
#[path = "runtime/mailers.rs"]
mod mailers;
#[path = "runtime/master_cli.rs"]
mod master_cli;
#[path = "runtime/master_signals.rs"]
mod master_signals;
#[path = "runtime/netns.rs"]
mod netns;
#[path = "runtime/nolb.rs"]
mod nolb;
#[path = "runtime/normalize_uri.rs"]
mod normalize_uri;
#[path = "runtime/on_marked.rs"]
mod on_marked;
#[path = "runtime/parity_h1.rs"]
mod parity_h1;
#[path = "runtime/parity_rules.rs"]
mod parity_rules;
#[path = "runtime/parity_wire.rs"]
mod parity_wire;
#[path = "runtime/peers.rs"]
mod peers;
#[path = "runtime/peers_tls.rs"]
mod peers_tls;
#[path = "runtime/persist.rs"]
mod persist;
#[path = "runtime/port_mapping.rs"]
mod port_mapping;
#[path = "runtime/proc_vars.rs"]
mod proc_vars;
#[path = "runtime/process_settings.rs"]
mod process_settings;
#[path = "runtime/program_sections.rs"]
mod program_sections;
#[path = "runtime/proxy_options.rs"]
mod proxy_options;
#[path = "runtime/proxy_protocol.rs"]
mod proxy_protocol;
#[path = "runtime/proxy_sockets.rs"]
mod proxy_sockets;
#[path = "runtime/proxy_v2_ssl.rs"]
mod proxy_v2_ssl;
#[path = "runtime/queue_aborts.rs"]
mod queue_aborts;
#[path = "runtime/queue_priority.rs"]
mod queue_priority;
#[path = "runtime/queue_stress.rs"]
mod queue_stress;
#[path = "runtime/queues.rs"]
mod queues;
#[path = "runtime/rdp.rs"]
mod rdp;
#[path = "runtime/real_clients.rs"]
mod real_clients;
#[path = "runtime/redirect_directive.rs"]
mod redirect_directive;
#[path = "runtime/reload.rs"]
mod reload;
#[path = "runtime/replies.rs"]
mod replies;
#[path = "runtime/request_targets.rs"]
mod request_targets;
#[path = "runtime/resolver_stats.rs"]
mod resolver_stats;
#[path = "runtime/route.rs"]
mod route;
#[path = "runtime/route_redirects.rs"]
mod route_redirects;
#[path = "runtime/sample_coverage.rs"]
mod sample_coverage;
#[path = "runtime/samples.rs"]
mod samples;
#[path = "runtime/scripted_origin.rs"]
mod scripted_origin;
#[path = "runtime/server_choice.rs"]
mod server_choice;
#[path = "runtime/server_crl.rs"]
mod server_crl;
#[path = "runtime/server_load_limits.rs"]
mod server_load_limits;
#[path = "runtime/server_ramp.rs"]
mod server_ramp;
#[path = "runtime/server_state.rs"]
mod server_state;
#[path = "runtime/server_undo.rs"]
mod server_undo;
#[path = "runtime/session_srv_conns.rs"]
mod session_srv_conns;
#[path = "runtime/set_status_reason.rs"]
mod set_status_reason;
#[path = "runtime/socks4.rs"]
mod socks4;
#[path = "runtime/source_bind.rs"]
mod source_bind;
#[path = "runtime/spoe.rs"]
mod spoe;
#[path = "runtime/spoe_modes.rs"]
mod spoe_modes;
#[path = "runtime/spoe_warnings.rs"]
mod spoe_warnings;
#[path = "runtime/spread.rs"]
mod spread;
#[path = "runtime/start_warnings.rs"]
mod start_warnings;
#[path = "runtime/stat_counters.rs"]
mod stat_counters;
#[path = "runtime/stats_http.rs"]
mod stats_http;
#[path = "runtime/stats_modules.rs"]
mod stats_modules;
#[path = "runtime/strict_mode.rs"]
mod strict_mode;
#[path = "runtime/tables.rs"]
mod tables;
#[path = "runtime/task_profile.rs"]
mod task_profile;
#[path = "runtime/tcp_aborts.rs"]
mod tcp_aborts;
#[path = "runtime/tcp_logs_lifecycle.rs"]
mod tcp_logs_lifecycle;
#[path = "runtime/tcp_no_server.rs"]
mod tcp_no_server;
#[path = "runtime/tcp_response.rs"]
mod tcp_response;
#[path = "runtime/tls.rs"]
mod tls;
#[path = "runtime/tls_bind_choices.rs"]
mod tls_bind_choices;
#[path = "runtime/tls_client_certs.rs"]
mod tls_client_certs;
#[path = "runtime/tls_crt_list.rs"]
mod tls_crt_list;
#[path = "runtime/tls_curves.rs"]
mod tls_curves;
#[path = "runtime/tls_early.rs"]
mod tls_early;
#[path = "runtime/tls_early_bind.rs"]
mod tls_early_bind;
#[path = "runtime/tls_gencert.rs"]
mod tls_gencert;
#[path = "runtime/tls_global_settings.rs"]
mod tls_global_settings;
#[path = "runtime/tls_key_type.rs"]
mod tls_key_type;
#[path = "runtime/tls_ocsp.rs"]
mod tls_ocsp;
#[path = "runtime/tls_process.rs"]
mod tls_process;
#[path = "runtime/tls_servers.rs"]
mod tls_servers;
#[path = "runtime/tls_session_id.rs"]
mod tls_session_id;
#[path = "runtime/tls_sni.rs"]
mod tls_sni;
#[path = "runtime/tls_tcp.rs"]
mod tls_tcp;
#[path = "runtime/tls_unix_v1.rs"]
mod tls_unix_v1;
#[path = "runtime/tls_verify_rules.rs"]
mod tls_verify_rules;
#[path = "runtime/traffic_parity.rs"]
mod traffic_parity;
#[path = "runtime/traffic_parity_reg.rs"]
mod traffic_parity_reg;
#[path = "runtime/transparent_source.rs"]
mod transparent_source;
#[path = "runtime/tunnel_timeouts.rs"]
mod tunnel_timeouts;
#[path = "runtime/unix_sockets.rs"]
mod unix_sockets;
#[path = "runtime/upgrade.rs"]
mod upgrade;
#[path = "runtime/var_limits.rs"]
mod var_limits;
#[path = "runtime/wait_body.rs"]
mod wait_body;
#[path = "runtime/websocket_checks.rs"]
mod websocket_checks;
#[path = "runtime/ws_h2.rs"]
mod ws_h2;
