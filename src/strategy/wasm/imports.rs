//! The host functions of module `bt` in one table: each one's name, the ABI
//! version that added it and its signature. The linker registers a function
//! only through [`define`], which refuses a name missing from the table; the
//! version check at load (`abi::check_version`) reads the versions from it;
//! and a test checks that the linker and the table hold the same functions
//! with the same signatures. plugins/README.md documents each function.

use wasmtime::{bail, IntoFunc, Linker, Result};

use super::abi::IMPORT_MODULE;
use super::caller::HostState;

/// One host function of module `bt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFn {
    /// Its name in module `bt`.
    pub name: &'static str,
    /// The ABI version that added it: a plugin declaring an older version
    /// may not import it.
    pub since: i32,
    /// Its WebAssembly type, written as `(params) -> (results)`.
    pub signature: &'static str,
}

const fn f(name: &'static str, since: i32, signature: &'static str) -> HostFn {
    HostFn { name, since, signature }
}

/// Every host function, grouped by the version that added it.
pub static HOST_FNS: &[HostFn] = &[
    // Version 1: parameters, market data, indicators, portfolio, orders, log.
    f("declare_int", 1, "(i32, i32, i64) -> ()"),
    f("declare_float", 1, "(i32, i32, f64) -> ()"),
    f("declare_bool", 1, "(i32, i32, i32) -> ()"),
    f("declare_text", 1, "(i32, i32, i32, i32) -> ()"),
    f("param_int", 1, "(i32, i32) -> (i64)"),
    f("param_float", 1, "(i32, i32) -> (f64)"),
    f("param_bool", 1, "(i32, i32) -> (i32)"),
    f("param_text", 1, "(i32, i32, i32, i32) -> (i32)"),
    f("symbol_count", 1, "() -> (i32)"),
    f("symbol_name", 1, "(i32, i32, i32) -> (i32)"),
    f("has_bar", 1, "(i32) -> (i32)"),
    f("bar", 1, "(i32, i32, i32) -> (f64)"),
    f("bar_time", 1, "(i32, i32) -> (i64)"),
    f("time", 1, "() -> (i64)"),
    f("bar_index", 1, "() -> (i64)"),
    f("calendar", 1, "(i32) -> (i64)"),
    f("lookback", 1, "(i32) -> ()"),
    f("indicator", 1, "(i32, i32, i32, i32, i32, i32, i32, i32, i32, f64) -> (i32)"),
    f("ind", 1, "(i32, i32) -> (f64)"),
    f("cross", 1, "(i32, i32) -> (i32)"),
    f("cross_level", 1, "(i32, f64) -> (i32)"),
    f("position", 1, "(i32) -> (f64)"),
    f("avg_price", 1, "(i32) -> (f64)"),
    f("unrealized_pnl", 1, "(i32) -> (f64)"),
    f("cash", 1, "() -> (f64)"),
    f("equity", 1, "() -> (f64)"),
    f("open_orders", 1, "(i32) -> (i32)"),
    f("order", 1, "(i32, i32, f64, i32, f64) -> (i64)"),
    f("order_target_percent", 1, "(i32, f64) -> (i64)"),
    f("close_position", 1, "(i32) -> (i64)"),
    f("cancel", 1, "(i64) -> (i32)"),
    f("cancel_all", 1, "(i32) -> (i32)"),
    f("log", 1, "(i32, i32) -> ()"),
    f("fail", 1, "(i32, i32) -> ()"),
    // Version 2: brackets, trailing stops, rebalancing, sizing, schedules, timeframes.
    f("order_bracket", 2, "(i32, i32, f64, i32, f64, i32, f64, i32, f64, i32, f64) -> (i64)"),
    f("order_trailing_stop", 2, "(i32, i32, f64, i32, f64) -> (i64)"),
    f("rebalance", 2, "(i32, i32) -> (i32)"),
    f("qty_for_fraction", 2, "(i32, f64) -> (f64)"),
    f("qty_for_risk", 2, "(f64, i32) -> (f64)"),
    f("schedule", 2, "(i32) -> (i32)"),
    f("timeframe", 2, "(i32, i32, i32) -> (i32)"),
    f("tf_bar", 2, "(i32, i32, i32) -> (f64)"),
    f("tf_bar_time", 2, "(i32, i32) -> (i64)"),
    // Version 3: the shared indicator area (shared.rs).
    f("share_indicators", 3, "(i32, i32) -> (i32)"),
    // Version 4: the plugin-driven bar loop (driven.rs) and rebalance ids.
    f("next_bar", 4, "() -> (i32)"),
    f("rebalance_ids", 4, "(i32, i32, i32) -> (i32)"),
];

/// The table entry of host function `name`.
pub fn find(name: &str) -> Option<&'static HostFn> {
    HOST_FNS.iter().find(|h| h.name == name)
}

/// Registers host function `name` of module `bt`, which must have an entry
/// in [`HOST_FNS`].
///
/// # Errors
/// `name` has no entry (a host function added without one), or wasmtime
/// refuses the definition (a duplicate).
pub(super) fn define<Params, Args>(
    l: &mut Linker<HostState>,
    name: &str,
    func: impl IntoFunc<HostState, Params, Args>,
) -> Result<()> {
    let Some(entry) = find(name) else {
        bail!("host function bt.{name} has no entry in the ABI table (strategy/wasm/imports.rs)");
    };
    l.func_wrap(IMPORT_MODULE, entry.name, func)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use wasmtime::{Engine, Extern, Store, StoreLimits};

    use super::*;
    use crate::domain::CancelToken;
    use crate::strategy::wasm::abi::{describe, ABI_VERSION, SUPPORTED_VERSIONS};
    use crate::strategy::wasm::host::linker;

    fn store(engine: &Engine) -> Store<HostState> {
        let state = HostState {
            ctx: None,
            declaring: false,
            declared: Vec::new(),
            failure: None,
            limits: StoreLimits::default(),
            cancel: CancelToken::new(),
            deadline: None,
            shared: None,
            memory: None,
            bar_loop: None,
        };
        Store::new(engine, state)
    }

    #[test]
    fn the_linker_offers_exactly_the_table_with_its_signatures() {
        let engine = Engine::default();
        let mut store = store(&engine);
        let linker = linker(&engine).unwrap();
        let items: Vec<(String, String, Extern)> =
            linker.iter(&mut store).map(|(m, n, item)| (m.to_string(), n.to_string(), item)).collect();
        let mut offered = BTreeMap::new();
        for (module, name, item) in items {
            assert_eq!(module, IMPORT_MODULE);
            let Extern::Func(func) = item else { panic!("bt.{name} is not a function") };
            offered.insert(name, describe(&func.ty(&store)));
        }
        let table: BTreeMap<String, String> =
            HOST_FNS.iter().map(|h| (h.name.to_string(), h.signature.to_string())).collect();
        assert_eq!(offered, table);
        assert_eq!(table.len(), HOST_FNS.len(), "a name appears twice in the table");
    }

    #[test]
    fn every_entry_names_a_supported_version() {
        for h in HOST_FNS {
            assert!(SUPPORTED_VERSIONS.contains(&h.since), "bt.{} since {}", h.name, h.since);
        }
        assert!(HOST_FNS.iter().any(|h| h.since == ABI_VERSION));
        assert!(HOST_FNS.windows(2).all(|w| w[0].since <= w[1].since), "grouped by version");
    }

    #[test]
    fn a_function_without_an_entry_is_not_registered() {
        let engine = Engine::default();
        let mut l = Linker::new(&engine);
        let err = define(&mut l, "teleport", |_: wasmtime::Caller<'_, HostState>| -> Result<()> { Ok(()) });
        assert!(err.unwrap_err().to_string().contains("bt.teleport has no entry in the ABI table"));
    }
}
