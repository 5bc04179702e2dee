//! The main loop.

use crate::analysis::Analysis;
use crate::workspace::Documents;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use std::time::Duration;

/// How long edits may pile up before diagnostics are recomputed.
const DEBOUNCE: Duration = Duration::from_millis(2);

/// What the server offers; `enc`: how its positions count columns.
fn capabilities(enc: crate::position::Encoding) -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(if enc.counts_bytes() {
            lsp::PositionEncodingKind::UTF8
        } else {
            lsp::PositionEncodingKind::UTF16
        }),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_range_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        completion_provider: Some(lsp::CompletionOptions {
            // `/` opens the next folder of a path (`crt /etc/ssl/`), or a `track`ed backend's
            // servers.
            trigger_characters: Some(vec![" ".into(), "/".into()]),
            ..Default::default()
        }),
        signature_help_provider: Some(lsp::SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            // While help shows, a space moves it to the directive's next argument.
            retrigger_characters: Some(vec![" ".into()]),
            work_done_progress_options: Default::default(),
        }),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(
            lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp::SemanticTokensOptions {
                    legend: crate::navigation::legend(),
                    // After an edit, the client gets what changed (crate::tokens).
                    full: Some(lsp::SemanticTokensFullOptions::Delta { delta: Some(true) }),
                    ..Default::default()
                },
            ),
        ),
        ..Default::default()
    }
}

/// Runs the server on stdin/stdout until the client says `exit`.
pub fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (connection, raw, io_threads) = crate::transport::stdio();
    let (id, init) = connection.initialize_start()?;
    // A client that offers UTF-8 positions (Neovim 0.10+, Helix) takes them as the
    // server's lines hold them; the others get the protocol's UTF-16.
    let bytes = init
        .pointer("/capabilities/general/positionEncodings")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|offered| offered.iter().any(|e| e == "utf-8"));
    let enc = if bytes {
        crate::position::Encoding::UTF8
    } else {
        crate::position::Encoding::UTF16
    };
    let result = lsp::InitializeResult {
        capabilities: capabilities(enc),
        server_info: Some(lsp::ServerInfo {
            name: "hapee-lsp".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    connection.initialize_finish(id, serde_json::to_value(result)?)?;
    // Lint levels live in `.hapee.toml`: clients that can watch files tell the server when it
    // changes, so diagnostics follow at once instead of at the next edit.
    let watch = init
        .pointer("/capabilities/workspace/didChangeWatchedFiles/dynamicRegistration")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if watch {
        let params = lsp::RegistrationParams {
            registrations: vec![lsp::Registration {
                id: "hapee-lint-settings".into(),
                method: lsp::notification::DidChangeWatchedFiles::METHOD.into(),
                register_options: serde_json::to_value(
                    lsp::DidChangeWatchedFilesRegistrationOptions {
                        watchers: vec![lsp::FileSystemWatcher {
                            glob_pattern: lsp::GlobPattern::String("**/.hapee.toml".into()),
                            kind: None,
                        }],
                    },
                )
                .ok(),
            }],
        };
        connection.sender.send(Message::Request(Request::new(
            RequestId::from("hapee-watch".to_string()),
            lsp::request::RegisterCapability::METHOD.into(),
            params,
        )))?;
    }
    let mut docs = Documents::default();
    docs.set_encoding(enc);
    docs.set_root(root_dir(&init));
    if let Some(files) = init
        .get("initializationOptions")
        .and_then(crate::workspace::files_setting)
    {
        docs.set_files(files);
    }
    main_loop(&connection, &raw, docs)?;
    // The writer thread ends only once every sender is gone.
    drop(connection);
    drop(raw);
    io_threads.join()?;
    Ok(())
}

/// The workspace root of `initialize`'s parameters: the first workspace folder, else
/// `rootUri`, else `rootPath`.
fn root_dir(init: &serde_json::Value) -> Option<std::path::PathBuf> {
    let uri = init
        .pointer("/workspaceFolders/0/uri")
        .or_else(|| init.get("rootUri"))
        .and_then(|u| u.as_str())
        .and_then(|u| lsp::Url::parse(u).ok())
        .and_then(|u| u.to_file_path().ok());
    uri.or_else(|| {
        init.get("rootPath")
            .and_then(|p| p.as_str())
            .map(std::path::PathBuf::from)
    })
}

type Raw = crossbeam_channel::Sender<Vec<u8>>;

fn main_loop(
    conn: &Connection,
    raw: &Raw,
    mut docs: Documents,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut shut_down = false;
    // Requests that came while edits were held: they are about the text the client has, which
    // the held edits are part of, so they are answered once those are applied.
    let mut waiting: std::collections::VecDeque<Request> = std::collections::VecDeque::new();
    loop {
        if docs.next_due().is_none() {
            while let Some(req) = waiting.pop_front() {
                respond(raw, &mut docs, req)?;
            }
        }
        let msg = match next_message(conn, &docs) {
            Ok(m) => m,
            Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => {
                docs.apply_overdue();
                publish_dirty(raw, &mut docs)?;
                continue;
            }
            Err(_) => return Ok(()),
        };
        match msg {
            // After `shutdown` the protocol allows only `exit`; any other request, a second
            // `shutdown` included, gets an InvalidRequest error.
            Message::Request(req) if shut_down => {
                conn.sender.send(Message::Response(error(
                    req.id,
                    ErrorCode::InvalidRequest,
                    "the server is shut down; only 'exit' is expected",
                )))?;
            }
            Message::Request(req) if req.method == "shutdown" => {
                shut_down = true;
                conn.sender
                    .send(Message::Response(Response::new_ok(req.id, ())))?;
            }
            // `exit` ends the server: with success after `shutdown`, else with exit code 1.
            Message::Notification(n) if n.method == "exit" => {
                return if shut_down {
                    Ok(())
                } else {
                    Err("'exit' without 'shutdown' first".into())
                };
            }
            Message::Request(req) if !waiting.is_empty() || docs.next_due().is_some() => {
                waiting.push_back(req);
            }
            Message::Request(req) => respond(raw, &mut docs, req)?,
            Message::Notification(n) => {
                notification(&mut docs, n);
                // Edits that arrive together are applied together; once none is waiting, the
                // diagnostics go out without waiting for the debounce.
                if conn.receiver.is_empty() {
                    publish_dirty(raw, &mut docs)?;
                }
            }
            Message::Response(_) => {}
        }
    }
}

/// Answers one request, after the diagnostics owed (an editor shows them before the answer).
fn respond(
    raw: &Raw,
    docs: &mut Documents,
    req: Request,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    publish_dirty(raw, docs)?;
    match answer(docs, req) {
        Ok(body) => raw.send(body)?,
        // An error goes the same way as the diagnostics: the writer takes messages from its
        // two channels in no set order, so an error sent on the other could overtake them.
        Err(response) => {
            let mut body = serde_json::to_value(&response)?;
            body["jsonrpc"] = "2.0".into();
            raw.send(serde_json::to_vec(&body)?)?
        }
    }
    Ok(())
}

/// The next message, waiting only as long as pending work allows: the debounce while diagnostics
/// are owed, until the oldest held edit is due, and without a timeout (no wake-ups) when idle.
fn next_message(
    conn: &Connection,
    docs: &Documents,
) -> Result<Message, crossbeam_channel::RecvTimeoutError> {
    let wait = if docs.dirty.is_empty() {
        docs.next_due()
            .map(|due| due.saturating_duration_since(std::time::Instant::now()))
    } else {
        Some(DEBOUNCE)
    };
    match wait {
        Some(wait) => conn.receiver.recv_timeout(wait),
        None => {
            (conn.receiver.recv()).map_err(|_| crossbeam_channel::RecvTimeoutError::Disconnected)
        }
    }
}

fn publish_dirty(
    raw: &Raw,
    docs: &mut Documents,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dirty: Vec<lsp::Url> = docs.dirty.iter().cloned().collect();
    for uri in dirty {
        // Taken out while the analysis borrows the documents; a panic leaves it empty.
        let mut published = docs.diagnostics_json.remove(&uri).unwrap_or_default();
        let body = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let analysis = docs.analysis(&uri);
            crate::publish::body(&uri, analysis, &mut published)
        }));
        let body = match body {
            Ok(body) => body?,
            Err(_) => crate::publish::body(&uri, None, &mut published)?,
        };
        let mut spans = hapee_compiler::timing::Spans::new("lsp publish");
        docs.dirty.remove(&uri);
        let hash = published.digest();
        let touched = docs.touched.remove(&uri);
        // The editor already shows the same diagnostics at the same places: an edit elsewhere
        // in the file, or another workspace file's, leaves them as they are (publishing them
        // again would have the editor redraw them all). Those on a line an edit replaced are
        // sent again: the editor may have moved or dropped their marks with that text.
        let same = docs.published.get(&uri) == Some(&hash);
        if !same || touched.is_some_and(|(first, last)| published.touches(first, last)) {
            docs.published.insert(uri.clone(), hash);
            raw.send(body)?;
        }
        if docs.is_open(&uri) {
            docs.diagnostics_json.insert(uri, published);
        }
        spans.mark("send");
        spans.done();
    }
    // `.hapee.toml`'s own diagnostics, when they changed (an empty list only to clear some).
    if let Some((uri, diagnostics)) = docs.settings.take() {
        let body = serde_json::to_vec(&serde_json::json!({
            "jsonrpc": "2.0",
            "method": "textDocument/publishDiagnostics",
            "params": lsp::PublishDiagnosticsParams::new(uri.clone(), diagnostics.clone(), None),
        }))?;
        let hash = xxhash_rust::xxh3::xxh3_64(&body);
        let before = docs.published.get(&uri);
        if before != Some(&hash) && (before.is_some() || !diagnostics.is_empty()) {
            docs.published.insert(uri, hash);
            raw.send(body)?;
        }
    }
    Ok(())
}

fn notification(docs: &mut Documents, n: Notification) {
    use lsp::notification::{
        DidChangeConfiguration, DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
        DidOpenTextDocument, DidSaveTextDocument,
    };
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) {
                docs.open(
                    p.text_document.uri,
                    p.text_document.version,
                    p.text_document.text,
                );
            }
        }
        DidChangeTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params) {
                docs.changed(
                    p.text_document.uri,
                    p.text_document.version,
                    p.content_changes,
                );
            }
        }
        DidSaveTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<lsp::DidSaveTextDocumentParams>(n.params) {
                docs.saved(p.text_document.uri);
            }
        }
        DidCloseTextDocument::METHOD => {
            if let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) {
                docs.close(&p.text_document.uri);
            }
        }
        DidChangeWatchedFiles::METHOD => docs.recheck_all(),
        DidChangeConfiguration::METHOD => {
            if let Some(files) = n
                .params
                .get("settings")
                .and_then(crate::workspace::files_setting)
            {
                docs.set_files(files);
            }
        }
        _ => {}
    }
}

fn error(id: RequestId, code: ErrorCode, message: impl Into<String>) -> Response {
    Response::new_err(id, code as i32, message.into())
}

/// Answers one request; unknown methods, closed documents and panics become error responses.
/// The serialised success response, or the error response.
fn answer(docs: &mut Documents, req: Request) -> Result<Vec<u8>, Response> {
    let id = req.id.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(docs, req)));
    match result {
        Ok(Ok(value)) => crate::transport::response(&id, &value)
            .map_err(|e| error(id, ErrorCode::InternalError, e.to_string())),
        Ok(Err((code, message))) => Err(error(id, code, message)),
        Err(_) => Err(error(
            id,
            ErrorCode::InternalError,
            "internal error while answering this request",
        )),
    }
}

type Answer = Result<Vec<u8>, (ErrorCode, String)>;

fn json<T: serde::Serialize>(v: T) -> Answer {
    serde_json::to_vec(&v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

fn params<P: serde::de::DeserializeOwned>(req: &Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params.clone())
        .map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

/// The analysis of an open document, or the error for a closed one.
fn open<'a>(docs: &'a mut Documents, uri: &lsp::Url) -> Result<&'a Analysis, (ErrorCode, String)> {
    docs.analysis(uri)
        .ok_or((ErrorCode::InvalidParams, "document not open".into()))
}

/// When set, the `hapee/crashForTesting` request panics inside its handler.
const CRASH_REQUEST_ENV: &str = "HAPEE_LSP_CRASH_REQUEST";

fn dispatch(docs: &mut Documents, req: Request) -> Answer {
    use lsp::request::*;
    match req.method.as_str() {
        // Lets the integration tests prove that a panicking handler only fails its request.
        "hapee/crashForTesting" if std::env::var_os(CRASH_REQUEST_ENV).is_some() => {
            panic!("hapee/crashForTesting was requested")
        }
        HoverRequest::METHOD => {
            let p: lsp::HoverParams = params(&req)?;
            let a = docs
                .analysis(&p.text_document_position_params.text_document.uri)
                .ok_or((ErrorCode::InvalidParams, "document not open".into()))?;
            json(a.hover(p.text_document_position_params.position))
        }
        GotoDefinition::METHOD => {
            let p: lsp::GotoDefinitionParams = params(&req)?;
            let a = docs
                .analysis(&p.text_document_position_params.text_document.uri)
                .ok_or((ErrorCode::InvalidParams, "document not open".into()))?;
            json(
                a.definition_of(p.text_document_position_params.position)
                    .or_else(|| a.definition(p.text_document_position_params.position))
                    .map(lsp::GotoDefinitionResponse::Scalar),
            )
        }
        DocumentSymbolRequest::METHOD => {
            let p: lsp::DocumentSymbolParams = params(&req)?;
            let a = docs
                .analysis(&p.text_document.uri)
                .ok_or((ErrorCode::InvalidParams, "document not open".into()))?;
            json(lsp::DocumentSymbolResponse::Nested(a.symbols()))
        }
        Formatting::METHOD => {
            let p: lsp::DocumentFormattingParams = params(&req)?;
            let a = docs
                .analysis(&p.text_document.uri)
                .ok_or((ErrorCode::InvalidParams, "document not open".into()))?;
            json(a.formatting())
        }
        RangeFormatting::METHOD => {
            let p: lsp::DocumentRangeFormattingParams = params(&req)?;
            json(open(docs, &p.text_document.uri)?.range_formatting(p.range))
        }
        Completion::METHOD => {
            let p: lsp::CompletionParams = params(&req)?;
            let a = docs
                .analysis(&p.text_document_position.text_document.uri)
                .ok_or((ErrorCode::InvalidParams, "document not open".into()))?;
            json(lsp::CompletionResponse::Array(
                a.completion(p.text_document_position.position),
            ))
        }
        SignatureHelpRequest::METHOD => {
            let p: lsp::SignatureHelpParams = params(&req)?;
            let a = open(docs, &p.text_document_position_params.text_document.uri)?;
            json(a.signature_help(p.text_document_position_params.position))
        }
        CodeActionRequest::METHOD => {
            let p: lsp::CodeActionParams = params(&req)?;
            let a = docs
                .analysis(&p.text_document.uri)
                .ok_or((ErrorCode::InvalidParams, "document not open".into()))?;
            json(a.code_actions(p.range))
        }
        References::METHOD => {
            let p: lsp::ReferenceParams = params(&req)?;
            let a = open(docs, &p.text_document_position.text_document.uri)?;
            json(a.references(
                p.text_document_position.position,
                p.context.include_declaration,
            ))
        }
        PrepareRenameRequest::METHOD => {
            let p: lsp::TextDocumentPositionParams = params(&req)?;
            let a = open(docs, &p.text_document.uri)?;
            json(a.prepare_rename(p.position))
        }
        Rename::METHOD => {
            let p: lsp::RenameParams = params(&req)?;
            let a = open(docs, &p.text_document_position.text_document.uri)?;
            let edit = a
                .rename(p.text_document_position.position, &p.new_name)
                .map_err(|e| (ErrorCode::InvalidParams, e))?;
            json(edit)
        }
        FoldingRangeRequest::METHOD => {
            let p: lsp::FoldingRangeParams = params(&req)?;
            json(open(docs, &p.text_document.uri)?.folding_ranges())
        }
        SemanticTokensFullRequest::METHOD => {
            let p: lsp::SemanticTokensParams = params(&req)?;
            let tokens = open(docs, &p.text_document.uri)?.semantic_tokens();
            json(docs.tokens_sent(&p.text_document.uri).full(tokens))
        }
        SemanticTokensFullDeltaRequest::METHOD => {
            let p: lsp::SemanticTokensDeltaParams = params(&req)?;
            let tokens = open(docs, &p.text_document.uri)?.semantic_tokens();
            let sent = docs.tokens_sent(&p.text_document.uri);
            json(sent.delta(&p.previous_result_id, tokens))
        }
        other => Err((
            ErrorCode::MethodNotFound,
            format!("unhandled method '{other}'"),
        )),
    }
}
