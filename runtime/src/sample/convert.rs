//! Converters: each one prepared once at start from its name and arguments (regexes compiled,
//! maps loaded, keys decoded) into a function of the input sample and the transaction.

use super::{
    arith, encode, hash, json, maps, mqtt, proto, protobuf, text, time, Unsupported, Value,
};
use crate::txn::Txn;
use hapee_compiler::expr::sample::Call;

/// A prepared converter: the input sample (and the transaction, for converters that read its
/// variables; scripts call converters without one) to the output, `None` when it fails.
pub type Run = Box<dyn Fn(Value, Option<&Txn>) -> Option<Value> + Send + Sync>;

/// One converter with its arguments prepared.
pub enum Converter {
    Run {
        name: String,
        run: Run,
    },
    /// A `table_*` converter or `in_table`.
    Table(Box<crate::tables::fetch::TableRead>),
    /// `lua.<name>(args)`: a converter a script registered.
    Script(String, Vec<String>),
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Converter::Run { name, .. } => write!(f, "Converter({name})"),
            Converter::Table(t) => write!(f, "Converter({t:?})"),
            Converter::Script(name, args) => write!(f, "Converter(lua.{name}{args:?})"),
        }
    }
}

impl Converter {
    pub fn apply(&self, v: Value, txn: Option<&Txn>) -> Option<Value> {
        match self {
            Converter::Run { run, .. } => run(v, txn),
            Converter::Table(t) => t.convert_value(&v, txn?),
            Converter::Script(name, args) => crate::script::hooks()?.convert(name, args, v, txn?),
        }
    }
}

/// A converter of the input alone.
pub fn pure(f: impl Fn(Value) -> Option<Value> + Send + Sync + 'static) -> Run {
    Box::new(move |v, _| f(v))
}

/// A converter that reads the transaction (its variables); it fails without one.
pub fn with_txn(f: impl Fn(Value, &Txn) -> Option<Value> + Send + Sync + 'static) -> Run {
    Box::new(move |v, txn| f(v, txn?))
}

/// Argument `i` of a call, empty when absent.
pub fn arg(c: &Call, i: usize) -> &str {
    c.args.get(i).map_or("", String::as_str)
}

/// Argument `i` as an integer (`default` when absent or empty).
pub fn int_arg(c: &Call, i: usize, default: i64) -> Result<i64, Unsupported> {
    match arg(c, i).trim() {
        "" => Ok(default),
        a => a.parse().map_err(|_| {
            Unsupported(format!(
                "converter '{}': argument {} '{a}' is not an integer",
                c.name,
                i + 1
            ))
        }),
    }
}

/// Prepares converter `c`.
pub fn compile(c: &Call) -> Result<Converter, Unsupported> {
    let name = c.name.as_str();
    if let Some(script) = name.strip_prefix("lua.") {
        return Ok(Converter::Script(script.to_string(), c.args.clone()));
    }
    let special = match name {
        "set-var" => Some(crate::vars::converter(&c.args)?),
        "unset-var" => Some(crate::vars::unset_converter(arg(c, 0))?),
        "capture-req" | "capture-res" => Some(crate::http::capture::converter(
            name == "capture-res",
            arg(c, 0),
        )?),
        _ => None,
    };
    if let Some(run) = special {
        return Ok(Converter::Run {
            name: name.to_string(),
            run,
        });
    }
    let families = [
        text::compile,
        encode::compile,
        hash::compile,
        arith::compile,
        maps::compile,
        json::compile,
        proto::compile,
        protobuf::compile,
        time::compile,
        mqtt::compile,
    ];
    for family in families {
        if let Some(run) = family(c)? {
            return Ok(Converter::Run {
                name: name.to_string(),
                run,
            });
        }
    }
    match crate::tables::fetch::TableRead::converter(name, &c.args) {
        Some(t) if super::CONVERTERS.contains(&name) => Ok(Converter::Table(Box::new(t))),
        _ => Err(Unsupported(format!("converter '{name}'"))),
    }
}

/// Applies converter `name` with `args` to `v` (scripts call converters by name).
pub fn convert_by_name(
    name: &str,
    args: &[String],
    v: Value,
) -> Result<Option<Value>, Unsupported> {
    let call = Call {
        name: name.to_string(),
        args: args.to_vec(),
        start: 0,
        end: 0,
    };
    Ok(compile(&call)?.apply(v, None))
}
