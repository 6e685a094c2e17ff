//! Building a strategy from its code, with the runtime named or chosen by
//! the file's extension: the one place where the CLI and the service turn
//! code into a [`Strategy`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::rhai::{RhaiLimits, RhaiStrategy};
use super::wasm::{CompiledPlugin, WasmLimits, WasmStrategy};
use super::{Strategy, StrategyError};
use crate::domain::CancelToken;

/// The runtimes a strategy can be written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// A Rhai script (`.rhai`).
    Rhai,
    /// A WebAssembly plugin (`.wasm`, or `.wat` in text form).
    Wasm,
}

impl Runtime {
    /// Every runtime, in the order messages list them.
    pub const ALL: [Runtime; 2] = [Runtime::Rhai, Runtime::Wasm];

    /// The runtime for a file name: `.rhai`, or `.wasm` / `.wat` (a plugin
    /// in binary or text form).
    pub fn for_path(path: &Path) -> Option<Runtime> {
        match path.extension()?.to_str()? {
            "wat" => Some(Runtime::Wasm),
            ext => ext.parse().ok(),
        }
    }

    /// The runtime's name in requests, results and file extensions: `rhai`
    /// or `wasm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Rhai => "rhai",
            Runtime::Wasm => "wasm",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A runtime name that is neither `rhai` nor `wasm`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 'rhai' or 'wasm', got '{0}'")]
pub struct UnknownRuntime(pub String);

impl FromStr for Runtime {
    type Err = UnknownRuntime;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Runtime::ALL.into_iter().find(|r| r.as_str() == name).ok_or_else(|| UnknownRuntime(name.to_string()))
    }
}

/// The sandbox limits of both runtimes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrategyLimits {
    /// Limits of Rhai scripts.
    pub rhai: RhaiLimits,
    /// Limits of WASM plugins.
    pub wasm: WasmLimits,
}

/// Compiles `code` (a script's text or a plugin's module, binary or text
/// form) for `runtime` into a fresh strategy named `name`; `cancel` is the
/// token of the run it is for (a running plugin watches it).
///
/// # Errors
/// A script that is not UTF-8, or what the runtime reports (syntax errors
/// with line and column, a missing export, a failing start function, ...).
pub fn build(
    runtime: Runtime,
    code: &[u8],
    name: &str,
    limits: &StrategyLimits,
    cancel: CancelToken,
) -> Result<Box<dyn Strategy>, StrategyError> {
    match runtime {
        Runtime::Rhai => {
            let source =
                std::str::from_utf8(code).map_err(|_| StrategyError::invalid(name, "the script is not valid UTF-8"))?;
            Ok(Box::new(RhaiStrategy::compile(source, name, limits.rhai.clone())?))
        }
        Runtime::Wasm => {
            let plugin = CompiledPlugin::compile(code, name, &limits.wasm)?;
            Ok(Box::new(WasmStrategy::instantiate(&plugin, name, limits.wasm, cancel)?))
        }
    }
}

/// Reads the strategy at `path`: the runtime its extension names and its bytes.
///
/// # Errors
/// An unknown extension or an unreadable file, naming it.
pub fn read_file(path: &Path) -> Result<(Runtime, Vec<u8>), StrategyError> {
    let file = path.display().to_string();
    let Some(runtime) = Runtime::for_path(path) else {
        let message = "unknown strategy file type; use a .rhai script or a .wasm/.wat plugin";
        return Err(StrategyError::invalid(file, message));
    };
    let code = std::fs::read(path).map_err(|e| StrategyError::invalid(file, format!("cannot read: {e}")))?;
    Ok((runtime, code))
}

/// Reads the strategy at `path` ([`read_file`]) and [`build`]s it.
///
/// # Errors
/// What [`read_file`] or [`build`] reports.
pub fn load_file(
    path: &Path,
    limits: &StrategyLimits,
    cancel: &CancelToken,
) -> Result<Box<dyn Strategy>, StrategyError> {
    let (runtime, code) = read_file(path)?;
    build(runtime, &code, &path.display().to_string(), limits, cancel.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names_read_back_and_extensions_choose_one() {
        for runtime in Runtime::ALL {
            assert_eq!(runtime.to_string().parse::<Runtime>(), Ok(runtime));
        }
        assert_eq!("lua".parse::<Runtime>().unwrap_err().to_string(), "must be 'rhai' or 'wasm', got 'lua'");
        assert_eq!(Runtime::for_path(Path::new("a/b.wat")), Some(Runtime::Wasm));
        assert_eq!(Runtime::for_path(Path::new("b.rhai")), Some(Runtime::Rhai));
        assert_eq!(Runtime::for_path(Path::new("b.txt")), None);
        assert_eq!(Runtime::for_path(Path::new("rhai")), None);
    }
}
