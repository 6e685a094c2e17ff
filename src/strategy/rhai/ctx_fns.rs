//! The functions a script can call on `ctx`, read back from the engine's own
//! registrations (api.rs, portfolio_api.rs): adding a function to the API
//! adds it here, so the compile-time check (check.rs) and the runtime
//! messages (errors.rs) cannot fall behind.

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};

use rhai::{Dynamic, Engine};

use super::api::CTX_TYPE;
use crate::session::StrategyCtx;

/// Functions Rhai itself provides on any value without registering them
/// (`ctx.type_of()`).
const BUILT_IN: [&str; 3] = ["type_of", "print", "debug"];

/// How similar (normalized Damerau-Levenshtein: 1 is equal) a name must be
/// to a ctx function's for "did you mean": one slip in a name of three
/// letters or more (`smaa` → `sma` is 0.75, `sell_stpo` → `sell_stop` 0.89),
/// never a different word (`frobnicate`).
const SUGGEST_FROM: f64 = 0.6;

/// The ctx functions and the numbers of arguments each takes.
#[derive(Clone, Debug)]
pub struct CtxFunctions {
    /// Name → argument counts, not counting `ctx`.
    arities: BTreeMap<String, BTreeSet<usize>>,
    /// Functions whose first parameter takes any value (`to_string`, ...),
    /// so that they also take `ctx`.
    generic: BTreeSet<String>,
}

impl CtxFunctions {
    /// The functions registered on `engine` whose first parameter is the
    /// context.
    pub fn from_engine(engine: &Engine) -> Self {
        let (ctx, any) = (TypeId::of::<StrategyCtx>(), TypeId::of::<Dynamic>());
        let registered = engine.collect_fn_metadata(
            None,
            |info| {
                let first = *info.metadata.param_types.first()?;
                Some((info.metadata.name.to_string(), info.metadata.num_params, first))
            },
            true,
        );
        let mut functions = CtxFunctions { arities: BTreeMap::new(), generic: BTreeSet::new() };
        for (name, params, first) in registered {
            if first == ctx {
                functions.arities.entry(name).or_default().insert(params - 1);
            } else if first == any {
                functions.generic.insert(name);
            }
        }
        functions
    }

    /// Whether `name` is a ctx function (with any number of arguments).
    pub fn contains(&self, name: &str) -> bool {
        self.arities.contains_key(name)
    }

    /// The ctx function names, in order.
    #[cfg(test)]
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.arities.keys().map(String::as_str)
    }

    /// Checks a call `ctx.name(...)` with `args` arguments.
    ///
    /// # Errors
    /// What is wrong, for the script's author: an unknown name (with the
    /// closest known one) or the argument counts the function takes.
    pub fn check(&self, name: &str, args: usize) -> Result<(), String> {
        match self.arities.get(name) {
            Some(counts) if counts.contains(&args) => Ok(()),
            Some(counts) => Err(format!("ctx function `{name}` takes {}, not {args}", arguments(counts))),
            None if self.generic.contains(name) || BUILT_IN.contains(&name) => Ok(()),
            None => Err(self.unknown(name)),
        }
    }

    /// "unknown ctx function `smaa`; did you mean `sma`?"
    pub fn unknown(&self, name: &str) -> String {
        format!("unknown ctx function `{name}`{}", self.did_you_mean(name))
    }

    /// "; did you mean `sma`?" when a ctx function's name is close enough.
    pub fn did_you_mean(&self, name: &str) -> String {
        let wanted = name.to_lowercase();
        let mut best: Option<(f64, &str)> = None;
        for known in self.arities.keys() {
            let score = strsim::normalized_damerau_levenshtein(&wanted, known);
            if score >= SUGGEST_FROM && best.is_none_or(|(top, _)| score > top) {
                best = Some((score, known));
            }
        }
        best.map_or_else(String::new, |(_, known)| format!("; did you mean `{known}`?"))
    }

    /// Explains Rhai's "function not found" for a call on the context, from
    /// the signature it reports (`smaa (Ctx, &str | ImmutableString | String,
    /// i64)`: the name, then the argument types with the context first).
    /// `None` when the call is not on the context, or names one of the
    /// script's own functions (`is_script`), whose arguments are the
    /// script's business.
    pub fn explain_missing(&self, signature: &str, is_script: impl Fn(&str) -> bool) -> Option<String> {
        let (name, types) = signature.split_once(" (")?;
        let mut types = types.strip_suffix(')')?.split(", ");
        if types.next()? != CTX_TYPE || (is_script(name) && !self.contains(name)) {
            return None;
        }
        let types: Vec<&str> = types.map(|t| if t.contains("ImmutableString") { "string" } else { t }).collect();
        Some(match self.check(name, types.len()) {
            Err(message) => message,
            Ok(()) => format!("ctx function `{name}` does not take arguments of types ({})", types.join(", ")),
        })
    }
}

/// "no arguments", "1 argument", "2 or 3 arguments".
fn arguments(counts: &BTreeSet<usize>) -> String {
    let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
    let list = match counts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => return "no arguments".into(),
    };
    if list == "0" {
        "no arguments".into()
    } else if list == "1" {
        "1 argument".into()
    } else {
        format!("{list} arguments")
    }
}
