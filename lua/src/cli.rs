//! `core.register_cli`: Runtime API commands written in Lua. The function gets an applet shaped
//! as HAProxy's CLI makes it, an `AppletTCP` table (its userdata at `[0]`, and `f`, `sf`, `c`,
//! `sc`) whose `send` writes the answer, then the command's words; an error is answered as
//! HAProxy answers it, `Lua cli '<name>': <message>.`

use crate::state::State;
use crate::txn::{vars_methods, SampleSet, TxnCell};
use mlua::{Function, MultiValue, Table, UserData, UserDataMethods, Value};
use std::sync::{Arc, Mutex};

/// A registered command: its leading words, and the function run for it.
#[derive(Clone)]
pub struct Command {
    pub words: Vec<String>,
    pub func: Function,
}

/// A command's applet: what it has sent, the cell its `f`/`sf` and variables read (no
/// transaction is lent: the command has no HTTP or TCP stream of its own), and its private
/// value.
struct CliApplet {
    out: Arc<Mutex<Vec<u8>>>,
    cell: TxnCell,
    private: crate::txn::AppletPrivate,
}

impl UserData for CliApplet {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        crate::errors::add_method(m, "send", |_, this, data: mlua::String| {
            if let Ok(mut out) = this.out.lock() {
                out.extend_from_slice(&data.as_bytes());
            }
            Ok(())
        });
        // A command's payload is not passed on: there is no input to read.
        m.add_method("getline", |_, _, ()| Ok(Value::Nil));
        m.add_method("receive", |_, _, _: MultiValue| Ok(Value::Nil));
        vars_methods(m, |a: &CliApplet| &a.cell);
        crate::txn::own_priv_methods(m, |a: &CliApplet| &a.private);
    }
}

/// The applet object of a command, as HAProxy's `AppletTCP` table.
fn applet_object(state: &State, applet: CliApplet, samples: &SampleSet) -> mlua::Result<Table> {
    let ud = state.lua.create_userdata(applet)?;
    let object = crate::object::shaped(&state.lua, ud, "hapee.CliApplet")?;
    let (f, sf, c, sc) = samples.objects();
    for (name, o) in crate::txn::SAMPLE_FIELDS.iter().zip([f, sf, c, sc]) {
        object.raw_set(*name, o)?;
    }
    Ok(object)
}

/// The commands of every state, served to the Runtime API.
pub struct ScriptCommands {
    pub states: Vec<State>,
}

impl ScriptCommands {
    /// The command with the most leading words matching `args`, and its state.
    fn find(&self, args: &[String]) -> Option<(State, Command)> {
        let mut best: Option<(State, Command)> = None;
        for s in &self.states {
            let Ok(reg) = s.registered.lock() else {
                continue;
            };
            for c in &reg.cli {
                let matches =
                    c.words.len() <= args.len() && c.words.iter().zip(args).all(|(w, a)| w == a);
                if matches
                    && best
                        .as_ref()
                        .is_none_or(|b| b.1.words.len() < c.words.len())
                {
                    best = Some((s.clone(), c.clone()));
                }
            }
        }
        best
    }
}

impl hapee_runtime::script::CliCommands for ScriptCommands {
    fn run(&self, args: &[String]) -> Option<String> {
        let (state, command) = self.find(args)?;
        let out = Arc::new(Mutex::new(Vec::new()));
        let samples = SampleSet::lend(&state).ok()?;
        let applet = CliApplet {
            out: out.clone(),
            cell: samples.cell.clone(),
            private: Mutex::new(None),
        };
        let result = (|| {
            let mut all = vec![Value::Table(applet_object(&state, applet, &samples)?)];
            for a in args {
                all.push(Value::String(state.lua.create_string(a)?));
            }
            state.run_now(
                &command.func,
                MultiValue::from_iter(all),
                state.limits.session,
            )
        })();
        samples.give_back(&state);
        let mut text = String::from_utf8_lossy(&out.lock().ok()?.clone()).into_owned();
        if let Err(e) = result {
            if !crate::is_done(&e) {
                let name = command.words.join(" ");
                text.push_str(&format!(
                    "Lua cli '{name}': {}.\n",
                    crate::errors::describe(state.id, &e)
                ));
            }
        }
        Some(text)
    }
}
