//! Signature help: inside a fetch's or converter's parentheses, its argument types with the one
//! being typed; among a directive's arguments, the directive's usage from the registry with the
//! argument being typed.

use crate::analysis::Analysis;
use hapee_compiler::registry::{self, ArgSpec};
use lsp_types as lsp;

/// A signature whose label is ASCII: `places` are offsets in it, the same in bytes and in
/// UTF-16 units (clients differ on which they read).
fn signature(
    label: String,
    doc: String,
    places: Vec<([u32; 2], Option<&str>)>,
    active: Option<usize>,
) -> lsp::SignatureHelp {
    let parameters = places
        .into_iter()
        .map(|(at, doc)| lsp::ParameterInformation {
            label: lsp::ParameterLabel::LabelOffsets(at),
            documentation: doc.map(|d| lsp::Documentation::String(d.to_string())),
        })
        .collect::<Vec<_>>();
    let active = active.filter(|&i| i < parameters.len()).map(|i| i as u32);
    lsp::SignatureHelp {
        signatures: vec![lsp::SignatureInformation {
            label,
            documentation: Some(lsp::Documentation::String(doc)),
            parameters: Some(parameters),
            active_parameter: active,
        }],
        active_signature: Some(0),
        active_parameter: active,
    }
}

/// The call whose parentheses hold the end of `word`: the name before its `(`, whether that
/// name follows a comma (a converter), and how many commas precede the cursor inside it.
pub(crate) fn open_call(word: &str) -> Option<(&str, bool, usize)> {
    let mut opens: Vec<(usize, usize)> = Vec::new();
    let mut quote = None;
    for (i, c) in word.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => opens.push((i, 0)),
            (None, ')') => {
                opens.pop();
            }
            (None, ',') => {
                if let Some(open) = opens.last_mut() {
                    open.1 += 1;
                }
            }
            _ => {}
        }
    }
    let &(open, commas) = opens.last()?;
    let head = &word[..open];
    let start = head.rfind([',', '(', '[', '{']).map_or(0, |i| i + 1);
    let converter = head[..start].ends_with(',');
    Some((&head[start..], converter, commas))
}

/// The signature of fetch or converter `name` (`converter`: it follows a comma), with argument
/// `active` being typed.
fn call(name: &str, converter: bool, active: usize) -> Option<lsp::SignatureHelp> {
    let fetch = || {
        let f = registry::fetch(name).or_else(|| {
            // An ACL keyword (`hdr_beg`) takes the arguments of the fetch it matches.
            registry::acl_keyword(name).and_then(|k| registry::fetch(k.fetch))
        })?;
        let out = format!("{:?}", f.output).to_lowercase();
        Some((f.args, format!("→ {out}. {}", f.doc)))
    };
    let conv = || {
        let c = registry::converter(name)?;
        let (input, out) = (
            format!("{:?}", c.input).to_lowercase(),
            format!("{:?}", c.output).to_lowercase(),
        );
        Some((c.args, format!("{input} → {out}. {}", c.doc)))
    };
    let (args, doc): (ArgSpec, String) = if converter {
        conv().or_else(fetch)?
    } else {
        fetch().or_else(conv)?
    };
    let (text, places) = crate::hover::arguments_placed(&args);
    let offset = name.len() as u32;
    let places = places
        .into_iter()
        .map(|[s, e]| ([s + offset, e + offset], None))
        .collect();
    Some(signature(
        format!("{name}{text}"),
        doc,
        places,
        Some(active),
    ))
}

/// The usage of the directive `words` start, with the argument at word `index` being typed.
fn directive(words: &[&str], index: usize) -> Option<lsp::SignatureHelp> {
    let keyword = *words.first()?;
    let usage = registry::usage_of(keyword)?;
    if index == 0 || usage.args.is_empty() {
        return None;
    }
    let mut label = keyword.to_string();
    let mut places = Vec::with_capacity(usage.args.len());
    for arg in usage.args {
        label.push(' ');
        places.push((
            [label.len() as u32, (label.len() + arg.label.len()) as u32],
            Some(arg.doc),
        ));
        label.push_str(arg.label);
    }
    let last = usage.args.len() - 1;
    let conditioned = words
        .iter()
        .skip(1)
        .take(index.saturating_sub(1))
        .any(|w| *w == "if" || *w == "unless");
    let active = match usage.args.iter().position(|a| a.label.starts_with("[{if")) {
        Some(condition) if conditioned => condition,
        _ if usage.repeats => (index - 1).min(last),
        _ if index - 1 <= last => index - 1,
        _ => return None,
    };
    // `timeout client`: the doc of that very timeout once its name is written.
    let full = words.get(1).map(|second| format!("{keyword} {second}"));
    let doc = registry::DIRECTIVES
        .iter()
        .find(|d| Some(d.name) == full.as_deref())
        .or_else(|| registry::DIRECTIVES.iter().find(|d| d.name == keyword))
        .map_or("", |d| d.doc);
    Some(signature(label, doc.to_string(), places, Some(active)))
}

impl Analysis {
    /// Signature help at `pos`: a fetch's or converter's arguments inside its parentheses,
    /// else the usage of the line's directive.
    pub fn signature_help(&self, pos: lsp::Position) -> Option<lsp::SignatureHelp> {
        let f = self.file();
        let at = self.enc.offset(f, pos);
        let before = &f.text[crate::position::line_start(f, at)..at];
        // A `#` outside quotes starts a comment: nothing to help with after it.
        let words: Vec<&str> = before.split_whitespace().collect();
        if words.iter().any(|w| w.starts_with('#')) {
            return None;
        }
        let typing_new = before.is_empty() || before.ends_with(char::is_whitespace);
        if !typing_new {
            if let Some((name, converter, commas)) = words.last().and_then(|w| open_call(w)) {
                return call(name, converter, commas);
            }
        }
        let index = if typing_new {
            words.len()
        } else {
            words.len().saturating_sub(1)
        };
        directive(&words, index)
    }
}

#[cfg(test)]
mod tests {
    use super::open_call;

    #[test]
    fn the_open_call_at_the_end_of_a_word() {
        assert_eq!(open_call("hdr("), Some(("hdr", false, 0)));
        assert_eq!(open_call("%[req.hdr(host,"), Some(("req.hdr", false, 1)));
        assert_eq!(open_call("src,map_beg(/a.map,"), Some(("map_beg", true, 1)));
        assert_eq!(open_call("hdr(host),lower"), None);
        assert_eq!(
            open_call("hdr(host),regsub(\"a,(\","),
            Some(("regsub", true, 1))
        );
    }
}
