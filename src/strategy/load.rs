//! Loading a strategy from a file, with the runtime chosen by its extension.

use std::path::Path;

use super::rhai::{RhaiLimits, RhaiStrategy};
use super::wasm::{CompiledPlugin, WasmLimits, WasmStrategy};
use super::{Strategy, StrategyError};
use crate::domain::CancelToken;

/// The runtimes a strategy file can be written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Rhai,
    Wasm,
}

impl Runtime {
    /// The runtime for a file name: `.rhai`, or `.wasm` / `.wat` (a plugin
    /// in binary or text form).
    pub fn for_path(path: &Path) -> Option<Runtime> {
        match path.extension()?.to_str()? {
            "rhai" => Some(Runtime::Rhai),
            "wasm" | "wat" => Some(Runtime::Wasm),
            _ => None,
        }
    }

    /// The runtime's name in requests and results: `rhai` or `wasm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Rhai => "rhai",
            Runtime::Wasm => "wasm",
        }
    }
}

/// The sandbox limits of both runtimes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrategyLimits {
    pub rhai: RhaiLimits,
    pub wasm: WasmLimits,
}

/// Reads and compiles the strategy at `path`; `cancel` is the token of the
/// run it is for (a running plugin watches it).
///
/// # Errors
/// An unreadable file, an unknown extension, or what the runtime reports
/// (syntax errors with line and column, a missing export, ...).
pub fn load_file(
    path: &Path,
    limits: &StrategyLimits,
    cancel: &CancelToken,
) -> Result<Box<dyn Strategy>, StrategyError> {
    let file = path.display().to_string();
    let invalid = |message: String| StrategyError::invalid(file.clone(), message);
    let read = |path: &Path| std::fs::read(path).map_err(|e| invalid(format!("cannot read: {e}")));
    match Runtime::for_path(path) {
        Some(Runtime::Rhai) => {
            let source = String::from_utf8(read(path)?).map_err(|_| invalid("the script is not valid UTF-8".into()))?;
            Ok(Box::new(RhaiStrategy::compile(&source, &file, limits.rhai.clone())?))
        }
        Some(Runtime::Wasm) => {
            let plugin = CompiledPlugin::compile(&read(path)?, &file, &limits.wasm)?;
            Ok(Box::new(WasmStrategy::instantiate(&plugin, &file, limits.wasm, cancel.clone())?))
        }
        None => Err(invalid("unknown strategy file type; use a .rhai script or a .wasm/.wat plugin".into())),
    }
}
