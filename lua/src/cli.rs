//! `core.register_cli`: Runtime API commands written in Lua. The function gets an applet (its
//! `send`/`print` write the answer) and the command's words; an error is answered as HAProxy
//! answers it, `Lua cli '<name>': <message>.`

use crate::state::State;
use mlua::{Function, MultiValue, UserData, UserDataMethods, Value};
use std::sync::{Arc, Mutex};

/// A registered command: its leading words, and the function run for it.
#[derive(Clone)]
pub struct Command {
    pub words: Vec<String>,
    pub func: Function,
}

/// What a command's applet has printed.
struct CliApplet(Arc<Mutex<Vec<u8>>>);

impl UserData for CliApplet {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        for name in ["send", "print"] {
            crate::errors::add_method(m, name, |_, this, data: mlua::String| {
                if let Ok(mut out) = this.0.lock() {
                    out.extend_from_slice(&data.as_bytes());
                }
                Ok(())
            });
        }
        // A command's payload is not passed on: there is no input to read.
        m.add_method("getline", |_, _, ()| Ok(Value::Nil));
        m.add_method("receive", |_, _, _: MultiValue| Ok(Value::Nil));
    }
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
        let result = (|| {
            let mut all = vec![Value::UserData(
                state.lua.create_userdata(CliApplet(out.clone()))?,
            )];
            for a in args {
                all.push(Value::String(state.lua.create_string(a)?));
            }
            state.run_now(
                &command.func,
                MultiValue::from_iter(all),
                state.limits.session,
            )
        })();
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
