//! Loading a strategy from a file, with the runtime chosen by its extension.

use std::path::Path;

use super::rhai::{RhaiLimits, RhaiStrategy};
use super::{Strategy, StrategyError};

/// The runtimes a strategy file can be written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Rhai,
    Wasm,
}

impl Runtime {
    /// The runtime for a file name: `.rhai` or `.wasm`.
    pub fn for_path(path: &Path) -> Option<Runtime> {
        match path.extension()?.to_str()? {
            "rhai" => Some(Runtime::Rhai),
            "wasm" => Some(Runtime::Wasm),
            _ => None,
        }
    }
}

/// Reads and compiles the strategy at `path`.
///
/// # Errors
/// An unreadable file, an unknown extension, or what the runtime reports
/// (syntax errors with line and column, a missing `on_bar`, ...).
pub fn load_file(path: &Path) -> Result<Box<dyn Strategy>, StrategyError> {
    let file = path.display().to_string();
    let invalid = |message: String| StrategyError::Invalid {
        file: file.clone(),
        message,
    };
    match Runtime::for_path(path) {
        Some(Runtime::Rhai) => {
            let source = std::fs::read_to_string(path).map_err(|e| invalid(format!("cannot read: {e}")))?;
            Ok(Box::new(RhaiStrategy::compile(&source, &file, RhaiLimits::default())?))
        }
        Some(Runtime::Wasm) => Err(invalid(
            "WASM plugins are not supported by this build yet; write the strategy as a .rhai script".into(),
        )),
        None => Err(invalid("unknown strategy file type; use a .rhai script".into())),
    }
}
