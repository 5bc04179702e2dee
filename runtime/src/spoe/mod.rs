//! SPOE: the stream processing offload engine of `filter spoe`. Messages (named sample
//! values) go to an external agent over SPOP, on an event of the stream or on a
//! `send-spoe-group` rule; the agent answers with variables to set, which the rules after can
//! read as `<scope>.<var-prefix>.<name>`. The request waits for the answer (up to `timeout
//! processing`) without holding its worker thread.
//!
//! What is offered to agents: SPOP 2.0 with pipelining and asynchronous answers (as the
//! engine's options allow, see [`client`]); a NOTIFY too big for a frame is sent in fragments
//! to an agent that takes them (`option send-frag-payload`), and fragmented ACKs are refused,
//! as HAProxy 2.7 does not read them either.

pub mod client;
pub mod codec;

use crate::acl::{AclSet, Condition};
use crate::sample::{Expr, Unsupported, Value};
use crate::txn::Txn;
use codec::{Action, Typed};
use hapee_compiler::plan::filters::{FilterPlan, FiltersPlan};
use hapee_compiler::spoe::{SpoeEngine, SpoeEvent, SpoeMessage};
use std::sync::Arc;
use std::time::Duration;

/// A message with its arguments and condition compiled.
#[derive(Debug)]
struct Message {
    name: String,
    args: Vec<(String, Expr)>,
    event: Option<SpoeEvent>,
    condition: Condition,
}

impl Message {
    fn compile(m: &SpoeMessage) -> Result<Message, Unsupported> {
        let acls: Vec<hapee_compiler::plan::Acl> = m
            .acls
            .iter()
            .filter_map(|words| {
                let (name, criterion) = words.split_first()?;
                Some(hapee_compiler::plan::Acl {
                    name: name.clone(),
                    criterion: criterion.to_vec(),
                })
            })
            .collect();
        let acls = AclSet::compile(&acls)?;
        Ok(Message {
            name: m.name.clone(),
            args: m
                .args
                .iter()
                .map(|(n, e)| Ok((n.clone(), Expr::parse(e)?)))
                .collect::<Result<_, Unsupported>>()?,
            event: m.event,
            condition: Condition::compile(&m.condition, &acls)?,
        })
    }
}

/// One engine of a proxy's `filter spoe` lines.
#[derive(Debug)]
pub struct Engine {
    pub plan: SpoeEngine,
    /// Its rank among all engines: the key of its idle connections.
    key: usize,
    messages: Vec<Message>,
    groups: Vec<(String, Vec<Message>)>,
    /// Connections opened and processings failed lately (`maxconnrate`, `maxerrrate`).
    connections: client::Rate,
    errors: client::Rate,
}

/// Every SPOE engine of the configuration.
#[derive(Debug, Default)]
pub struct Engines(Vec<Arc<Engine>>);

impl Engines {
    pub fn build(plan: &FiltersPlan) -> Result<Engines, Unsupported> {
        let mut list = Vec::new();
        for f in plan.proxies.iter().flat_map(|p| &p.chain) {
            let FilterPlan::Spoe(e) = f else { continue };
            let messages = e
                .messages
                .iter()
                .map(Message::compile)
                .collect::<Result<_, _>>()?;
            let groups = e
                .groups
                .iter()
                .map(|(g, msgs)| {
                    Ok((
                        g.name.clone(),
                        msgs.iter()
                            .map(Message::compile)
                            .collect::<Result<_, _>>()?,
                    ))
                })
                .collect::<Result<_, Unsupported>>()?;
            list.push(Arc::new(Engine {
                plan: (**e).clone(),
                key: list.len(),
                messages,
                groups,
                connections: Default::default(),
                errors: Default::default(),
            }));
        }
        Ok(Engines(list))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The engine `id` of proxy `proxy`.
    pub fn find(&self, proxy: &str, id: &str) -> Option<&Arc<Engine>> {
        self.0
            .iter()
            .find(|e| e.plan.proxy == proxy && e.plan.id == id)
    }

    /// Whether a proxy's engines send messages on `event`.
    pub fn listen(&self, proxy: &str, event: SpoeEvent) -> bool {
        self.0
            .iter()
            .any(|e| e.plan.proxy == proxy && e.messages.iter().any(|m| m.event == Some(event)))
    }
}

/// How long a `send-spoe-group` rule may wait for the agent, besides `timeout processing`.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    /// As long as the processing takes (HTTP rules).
    Free,
    /// Until the content inspection's delay ends (`tcp-request|tcp-response inspect-delay`).
    Until(tokio::time::Instant),
    /// Not at all: content rules without an inspection delay (or past it) decide at once, so
    /// HAProxy interrupts the processing before anything is sent (status 5).
    Final,
}

impl Wait {
    /// The wait of content rules whose inspection ends at `deadline` (none: no delay).
    pub fn content(deadline: Option<tokio::time::Instant>) -> Wait {
        match deadline {
            Some(d) if d > tokio::time::Instant::now() => Wait::Until(d),
            _ => Wait::Final,
        }
    }
}

/// `send-spoe-group <engine> <group>`, compiled.
#[derive(Debug)]
pub struct SendGroup {
    pub engine: String,
    pub group: String,
}

impl SendGroup {
    pub fn compile(args: &[String]) -> Result<SendGroup, Unsupported> {
        match args {
            [engine, group, ..] => Ok(SendGroup {
                engine: engine.clone(),
                group: group.clone(),
            }),
            _ => Err(Unsupported(
                "send-spoe-group without engine and group".into(),
            )),
        }
    }

    /// Sends the group of the engine of `proxy` (the proxy whose rule it is).
    pub async fn run(&self, txn: &mut Txn, proxy: &str, wait: Wait) {
        let shared = txn.shared.clone();
        let Some(engine) = shared.spoe.find(proxy, &self.engine) else {
            return;
        };
        let Some((_, messages)) = engine.groups.iter().find(|(g, _)| *g == self.group) else {
            return;
        };
        process(engine, txn, messages.iter().collect(), wait).await;
    }
}

/// The messages the engines of `proxies` send on `events`: each event in turn, for every
/// proxy's engines (a proxy named twice, a `listen` section, once).
pub async fn on_events(txn: &mut Txn, proxies: &[&str], events: &[SpoeEvent]) {
    let shared = txn.shared.clone();
    if shared.spoe.is_empty() {
        return;
    }
    for &event in events {
        for (i, proxy) in proxies.iter().enumerate() {
            if !proxies[..i].contains(proxy) && shared.spoe.listen(proxy, event) {
                on_event(txn, proxy, event).await;
            }
        }
    }
}

/// The messages the engines of `proxy` send on `event`, each engine in turn.
pub async fn on_event(txn: &mut Txn, proxy: &str, event: SpoeEvent) {
    let shared = txn.shared.clone();
    for engine in shared.spoe.0.iter().filter(|e| e.plan.proxy == proxy) {
        let messages: Vec<&Message> = engine
            .messages
            .iter()
            .filter(|m| m.event == Some(event))
            .collect();
        if !messages.is_empty() {
            process(engine, txn, messages, Wait::Free).await;
        }
    }
}

fn typed(v: Value) -> Typed {
    match v {
        Value::Str(s) => Typed::Str(s),
        Value::Int(i) => Typed::Int64(i),
        Value::Bool(b) => Typed::Bool(b),
        Value::Ip(ip) => Typed::Ip(ip),
        Value::Bin(b) => Typed::Bin(b),
    }
}

fn value(t: Typed) -> Option<Value> {
    Some(match t {
        Typed::Null => return None,
        Typed::Bool(b) => Value::Bool(b),
        Typed::Int32(i) => Value::Int(i.into()),
        Typed::Uint32(i) => Value::Int(i.into()),
        Typed::Int64(i) => Value::Int(i),
        Typed::Uint64(i) => Value::Int(i as i64),
        Typed::Ip(ip) => Value::Ip(ip),
        Typed::Str(s) => Value::Str(s),
        Typed::Bin(b) => Value::Bin(b),
    })
}

/// Sends the messages whose condition holds, waits for the answer, and applies it (or the
/// error variable).
async fn process(engine: &Engine, txn: &mut Txn, messages: Vec<&Message>, wait: Wait) {
    let bit = 1u64 << (engine.key % 64);
    if txn.spoe_stopped & bit != 0 {
        return;
    }
    // Past `maxerrrate` errors a second, messages are not sent (and no error is set).
    if !engine.errors.allows(engine.plan.maxerrrate) {
        return;
    }
    // Arguments without a value are sent as NULL, as HAProxy does.
    let encoded: Vec<(String, Vec<(String, Typed)>)> = messages
        .into_iter()
        .filter(|m| m.condition.holds(txn))
        .map(|m| {
            let args = m
                .args
                .iter()
                .map(|(n, e)| (n.clone(), e.eval(txn).map_or(Typed::Null, typed)))
                .collect();
            (m.name.clone(), args)
        })
        .collect();
    txn.settle_converter_vars();
    if encoded.is_empty() {
        return;
    }
    let stream_id = txn.request_counter();
    // Frames of a stream are numbered from 1, the number moving on once one is answered.
    let frame_id = u64::from(txn.spoe_frame_id) + 1;
    let build = |max: u32, fragment: bool| {
        let msgs: Vec<codec::Message> = encoded
            .iter()
            .map(|(name, args)| codec::Message {
                name,
                args: args.iter().map(|(n, v)| (n.as_str(), v.clone())).collect(),
            })
            .collect();
        codec::notify(stream_id, frame_id, &msgs, max, fragment)
    };
    let started = std::time::Instant::now();
    let shared = txn.shared.clone();
    let exchange = async {
        let exchange = client::process(engine, &shared, stream_id, frame_id, build);
        match engine.plan.timeout_processing {
            Some(ms) => tokio::time::timeout(Duration::from_millis(ms.into()), exchange)
                .await
                .unwrap_or(Err(client::ErrorCode::TIMEOUT)),
            None => exchange.await,
        }
    };
    let result = match wait {
        Wait::Free => exchange.await,
        Wait::Until(deadline) => tokio::time::timeout_at(deadline, exchange)
            .await
            .unwrap_or(Err(client::ErrorCode::INTERRUPTED)),
        Wait::Final => Err(client::ErrorCode::INTERRUPTED),
    };
    let interrupted = result == Err(client::ErrorCode::INTERRUPTED);
    let prefix = &engine.plan.var_prefix;
    match result {
        Ok(actions) => {
            txn.spoe_frame_id += 1;
            for a in actions {
                match a {
                    Action::SetVar(scope, name, v) => {
                        let var = format!("{}.{prefix}.{name}", scope.name());
                        // A process-wide variable is only created by a trusted agent (`option
                        // force-set-var`); else it must exist (named by the configuration, or
                        // by `register-var-names`), as in HAProxy.
                        if scope == codec::Scope::Proc
                            && !engine.plan.force_set_var
                            && !shared.proc_vars.exists(&var)
                        {
                            continue;
                        }
                        if let Some(v) = value(v) {
                            txn.store_var(&var, v);
                        }
                    }
                    Action::UnsetVar(scope, name) => {
                        txn.remove_var(&format!("{}.{prefix}.{name}", scope.name()));
                    }
                }
            }
        }
        Err(code) => {
            engine.errors.count(engine.plan.maxerrrate);
            if !engine.plan.continue_on_error {
                txn.spoe_stopped |= bit;
            }
            if let Some(name) = &engine.plan.set_on_error {
                txn.store_var(&format!("txn.{prefix}.{name}"), Value::Int(code.0.into()));
            }
        }
    }
    // An interrupted processing sets no time (HAProxy stops it before its statistics).
    if interrupted {
        return;
    }
    let spent = started.elapsed().as_millis() as i64;
    if let Some(name) = &engine.plan.set_process_time {
        txn.store_var(&format!("txn.{prefix}.{name}"), Value::Int(spent));
    }
    if let Some(name) = &engine.plan.set_total_time {
        let var = format!("txn.{prefix}.{name}");
        let before = match txn.var(&var) {
            Some(Value::Int(i)) => i,
            _ => 0,
        };
        txn.store_var(&var, Value::Int(before + spent));
    }
}
