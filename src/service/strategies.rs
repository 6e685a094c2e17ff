//! Turning uploaded strategy code into something runnable: compiled and
//! checked before anything is stored, and rebuilt for each run.

use base64::Engine as _;

use super::accounts::Actor;
use super::{params_json, Service, ServiceError};
use crate::broker::BrokerConfig;
use crate::data::Universe;
use crate::domain::{content_hash, CancelToken};
use crate::engine::{self, ParamOverrides, RunConfig};
use crate::session::ParamSpec;
use crate::store::{StrategyRow, VersionRow};
use crate::strategy::{build, Runtime, StrategyError, StrategyLimits};

/// Uploaded code that compiled, with what it declares.
#[derive(Debug)]
pub struct CheckedSource {
    /// The code as stored: a script's text or a module's bytes (binary or text form).
    pub bytes: Vec<u8>,
    /// Lowercase hex SHA-256 of `bytes`.
    pub content_hash: String,
    /// The parameters the code declares, with their defaults.
    pub params: Vec<ParamSpec>,
}

/// Compiles uploaded code: `source` for Rhai, `module_base64` for WASM.
///
/// # Errors
/// The wrong field for the runtime, bad base64, or a compile error (with
/// line and column for scripts).
pub fn check_upload(
    runtime: Runtime,
    source: Option<&str>,
    module_base64: Option<&str>,
    name: &str,
    limits: &StrategyLimits,
) -> Result<CheckedSource, ServiceError> {
    let bytes = match (runtime, source, module_base64) {
        (Runtime::Rhai, Some(source), None) => source.as_bytes().to_vec(),
        (Runtime::Wasm, None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| ServiceError::invalid("module_base64", format!("is not valid base64: {e}")))?,
        (Runtime::Rhai, _, _) => {
            return Err(ServiceError::invalid(
                "source",
                "a rhai strategy needs 'source' (the script) and no 'module_base64'",
            ))
        }
        (Runtime::Wasm, _, _) => {
            return Err(ServiceError::invalid("module_base64", "a wasm strategy needs 'module_base64' and no 'source'"))
        }
    };
    check_code(runtime, bytes, name, limits)
}

/// Compiles code given as bytes (a script's text or a module).
///
/// # Errors
/// A compile error (with line and column for scripts).
pub fn check_code(
    runtime: Runtime,
    bytes: Vec<u8>,
    name: &str,
    limits: &StrategyLimits,
) -> Result<CheckedSource, ServiceError> {
    let strategy = build(runtime, &bytes, name, limits, CancelToken::new()).map_err(compile_error)?;
    Ok(CheckedSource { content_hash: content_hash(&bytes), params: strategy.declared_params().to_vec(), bytes })
}

impl Service {
    /// Creates a strategy of `actor`'s user from uploaded code, compiled and
    /// checked first.
    ///
    /// # Errors
    /// An invalid runtime or field, a compile error, a name the user has taken.
    pub async fn create_strategy(
        &self,
        actor: Actor,
        name: &str,
        runtime: &str,
        description: &str,
        source: Option<&str>,
        module_base64: Option<&str>,
    ) -> Result<(StrategyRow, VersionRow), ServiceError> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(ServiceError::invalid("name", "must be 1 to 100 characters"));
        }
        let rt: crate::strategy::Runtime = runtime.parse()?;
        let checked = self.check_upload(rt, source, module_base64, name).await?;
        let version = crate::store::NewVersion {
            source: checked.bytes,
            content_hash: checked.content_hash,
            params_json: params_json::to_json(&checked.params),
        };
        Ok(self.inner.store.create_strategy(actor.user_id, name, runtime, description, version).await?)
    }

    /// Adds a version of a strategy's code; the same code as the latest
    /// version adds none and returns that version (the flag says whether one
    /// was added).
    ///
    /// # Errors
    /// An unknown strategy, a wrong field or a compile error.
    pub async fn add_version(
        &self,
        actor: Actor,
        strategy_id: i64,
        source: Option<&str>,
        module_base64: Option<&str>,
    ) -> Result<(VersionRow, bool), ServiceError> {
        let strategy = self.strategy(actor, strategy_id).await?;
        let rt: crate::strategy::Runtime = strategy.runtime.parse()?;
        let checked = self.check_upload(rt, source, module_base64, &strategy.name).await?;
        let version = crate::store::NewVersion {
            source: checked.bytes,
            content_hash: checked.content_hash,
            params_json: params_json::to_json(&checked.params),
        };
        Ok(self.inner.store.add_version(strategy_id, version).await?)
    }

    /// Compiles uploaded code on a blocking thread: compiling a plugin, and
    /// running its start function (up to the load limit), must not hold up
    /// the requests the async runtime is serving.
    async fn check_upload(
        &self,
        runtime: crate::strategy::Runtime,
        source: Option<&str>,
        module_base64: Option<&str>,
        name: &str,
    ) -> Result<CheckedSource, ServiceError> {
        let (source, module, name) = (source.map(str::to_owned), module_base64.map(str::to_owned), name.to_owned());
        let limits = self.inner.config.limits.clone();
        tokio::task::spawn_blocking(move || check_upload(runtime, source.as_deref(), module.as_deref(), &name, &limits))
            .await
            .map_err(|e| ServiceError::Internal(format!("compiling the upload failed: {e}")))?
    }

    /// A strategy `actor` sees, or NotFound (another user's too).
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn strategy(&self, actor: Actor, id: i64) -> Result<StrategyRow, ServiceError> {
        match self.inner.store.strategy(id).await? {
            Some(row) if actor.sees(row.owner_id) => Ok(row),
            _ => Err(ServiceError::NotFound(format!("strategy {id}"))),
        }
    }

    /// The strategies `actor` sees.
    ///
    /// # Errors
    /// Database failures.
    pub async fn strategies(&self, actor: Actor) -> Result<Vec<StrategyRow>, ServiceError> {
        Ok(self.inner.store.strategies(actor.owner_filter()).await?)
    }

    /// The versions of strategy `id` (one `actor` sees).
    ///
    /// # Errors
    /// NotFound or database failures.
    pub async fn versions(&self, actor: Actor, id: i64) -> Result<Vec<VersionRow>, ServiceError> {
        let strategy = self.strategy(actor, id).await?;
        Ok(self.inner.store.versions(strategy.id).await?)
    }
}

/// A run's strategy, data and parameters, for [`InitCheck::run`].
pub struct InitCheck {
    /// The runtime the code is for.
    pub runtime: Runtime,
    /// The version's code: a script's text or a module's bytes.
    pub source: Vec<u8>,
    /// The strategy's name in messages, e.g. `sma v3`.
    pub name: String,
    /// Sandbox limits to compile and run it under.
    pub limits: StrategyLimits,
    /// The run's data, windowed as the run will see it.
    pub universe: Universe,
    /// The run's checked broker settings.
    pub broker: BrokerConfig,
    /// The request's parameter values, by name.
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl InitCheck {
    /// Runs the strategy's `init` once with the run's parameters on its
    /// data, as the run will begin, so that a value the strategy cannot use
    /// (an SMA period of -5) is refused at submit. Blocking: call it off the
    /// async runtime.
    ///
    /// Only failures that the parameters cause are refused: when `init`
    /// passes with every default but fails with the request's values, each
    /// value is tried alone on the defaults and the first one that fails is
    /// named (`params.fast`); a combination that fails only together is
    /// `params`. Code whose `init` fails whatever the parameters is left to
    /// the run, which reports it as a failed run as before.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] naming the parameter, with the engine's
    /// message (the call and why).
    pub fn run(self) -> Result<(), ServiceError> {
        let Err(message) = self.attempt(self.params.clone()) else { return Ok(()) };
        if self.params.is_empty() || self.attempt(serde_json::Map::new()).is_err() {
            return Ok(());
        }
        for (key, value) in &self.params {
            let alone = serde_json::Map::from_iter([(key.clone(), value.clone())]);
            if let Err(message) = self.attempt(alone) {
                return Err(ServiceError::invalid(format!("params.{key}"), message));
            }
        }
        Err(ServiceError::invalid("params", message))
    }

    /// `init` on a fresh instance (it may keep state) with `params`; code
    /// that does not build passes here, as the run reports it.
    fn attempt(&self, params: serde_json::Map<String, serde_json::Value>) -> Result<(), String> {
        let Ok(mut strategy) = build(self.runtime, &self.source, &self.name, &self.limits, CancelToken::new()) else {
            return Ok(());
        };
        let config = RunConfig::new(self.broker.clone(), ParamOverrides::Json(params));
        engine::check_init(&self.universe, strategy.as_mut(), &config).map_err(|e| e.to_string())
    }
}

fn compile_error(e: StrategyError) -> ServiceError {
    match e {
        StrategyError::Syntax { ref message, line, column, .. } => ServiceError::Compile {
            message: format!("syntax error: {message}"),
            line: Some(line),
            column: Some(column),
        },
        // A call the API does not have: the message names it, line and column say where.
        StrategyError::Invalid { message, line: Some(line), column, .. } => {
            ServiceError::Compile { message, line: Some(line), column }
        }
        other => ServiceError::Compile { message: other.to_string(), line: None, column: None },
    }
}
