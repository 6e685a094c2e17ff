//! The ABI of WASM plugins (see plugins/README.md): what a plugin must
//! export and may import, checked before it is instantiated. Versions 2 and
//! 3 each add host functions to the one before, and version 4 two host
//! functions and an export (`bt.next_bar`, `bt.rebalance_ids`,
//! `bt_on_bars`); none changes anything else, so the host runs plugins of
//! any of them. A plugin states its version in a `bt_abi_version` custom
//! section (read before instantiation), a `bt_abi_version` export (called
//! after it), or both (which must then agree).

use wasmtime::wasmparser::{Parser, Payload};
use wasmtime::{ExternType, FuncType, Module, ValType};

use super::imports::{self, HostFn};

/// The newest ABI version this host speaks.
pub const ABI_VERSION: i32 = 4;
/// Every version this host runs.
pub const SUPPORTED_VERSIONS: [i32; 4] = [1, 2, 3, 4];
/// The only module plugins may import from.
pub const IMPORT_MODULE: &str = "bt";

/// A lifecycle export: name, whether it returns a status, whether required.
pub struct Export {
    pub name: &'static str,
    pub returns_status: bool,
    pub required: bool,
}

pub const ABI_VERSION_EXPORT: &str = "bt_abi_version";
/// The custom section that states the ABI version without running any of
/// the plugin's code: 4 bytes, a little-endian i32. When present it is
/// authoritative; the export, if there is one too, must agree with it.
pub const ABI_VERSION_SECTION: &str = "bt_abi_version";
pub const PARAMS: Export = Export { name: "bt_params", returns_status: false, required: false };
pub const INIT: Export = Export { name: "bt_init", returns_status: true, required: false };
/// Required unless the plugin exports [`ON_BARS`].
pub const ON_BAR: Export = Export { name: "bt_on_bar", returns_status: true, required: true };
/// ABI version 4: the plugin drives the bar loop (see `driven.rs`).
pub const ON_BARS: Export = Export { name: "bt_on_bars", returns_status: true, required: false };
pub const ON_FINISH: Export = Export { name: "bt_on_finish", returns_status: true, required: false };

/// The ABI version in the [`ABI_VERSION_SECTION`] custom section of
/// `bytes` (a module, binary or text); `None` when it has no such section.
///
/// # Errors
/// The bytes do not parse, or the section is there twice or does not hold
/// exactly 4 bytes.
pub fn section_version(bytes: &[u8]) -> Result<Option<i32>, String> {
    let invalid = |e: &dyn std::fmt::Display| format!("not a valid WebAssembly module: {e}");
    let binary = wat::parse_bytes(bytes).map_err(|e| invalid(&e))?;
    let mut found = None;
    for payload in Parser::new(0).parse_all(&binary) {
        let Payload::CustomSection(section) = payload.map_err(|e| invalid(&e))? else {
            continue;
        };
        if section.name() != ABI_VERSION_SECTION {
            continue;
        }
        if found.is_some() {
            return Err(format!("the plugin has more than one '{ABI_VERSION_SECTION}' custom section"));
        }
        let data: [u8; 4] = section.data().try_into().map_err(|_| {
            format!(
                "custom section '{ABI_VERSION_SECTION}' must hold 4 bytes (a little-endian i32), found {}",
                section.data().len()
            )
        })?;
        found = Some(i32::from_le_bytes(data));
    }
    Ok(found)
}

/// Checks that the version the `bt_abi_version` export returned agrees with
/// the custom section's, when the plugin has both.
///
/// # Errors
/// They differ.
pub fn check_agreement(section: Option<i32>, exported: i32) -> Result<(), String> {
    match section {
        Some(declared) if declared != exported => Err(format!(
            "the plugin's '{ABI_VERSION_SECTION}' custom section says ABI version {declared}, but its \
             {ABI_VERSION_EXPORT}() export returns {exported}; they must agree"
        )),
        _ => Ok(()),
    }
}

/// Checks the module (compiled from `bytes`) against the ABI: its exports,
/// its imports and, when it states its version in the [`ABI_VERSION_SECTION`]
/// custom section, that version (which makes the `bt_abi_version` export
/// optional). Returns the section's version, if any.
///
/// # Errors
/// A missing or mistyped export, an import from outside module `bt`, a
/// malformed section, or a version in it this host does not run or that the
/// imports do not fit; the message names it.
pub fn check(module: &Module, bytes: &[u8]) -> Result<Option<i32>, String> {
    let section = section_version(bytes)?;
    check_exports_and_imports(module, section.is_some())?;
    if let Some(version) = section {
        check_version(module, version)?;
    }
    Ok(section)
}

fn check_exports_and_imports(module: &Module, has_section: bool) -> Result<(), String> {
    match module.get_export("memory") {
        Some(ExternType::Memory(_)) => {}
        Some(_) => return Err("export 'memory' must be a memory".into()),
        None => return Err("the plugin does not export its memory as 'memory'".into()),
    }
    check_func(module, ABI_VERSION_EXPORT, true, !has_section)?;
    let drives = module.get_export(ON_BARS.name).is_some();
    for export in [PARAMS, INIT, ON_BAR, ON_BARS, ON_FINISH] {
        let required = export.required && !(drives && export.name == ON_BAR.name);
        check_func(module, export.name, export.returns_status, required)?;
    }
    for import in module.imports() {
        if import.module() != IMPORT_MODULE {
            return Err(format!(
                "the plugin imports '{}::{}', but plugins may only import from '{IMPORT_MODULE}' \
                 (no WASI: files, clock, network and environment are not available)",
                import.module(),
                import.name()
            ));
        }
    }
    Ok(())
}

fn check_func(module: &Module, name: &str, returns_status: bool, required: bool) -> Result<(), String> {
    let ty = match module.get_export(name) {
        Some(ExternType::Func(ty)) => ty,
        Some(_) => return Err(format!("export '{name}' must be a function")),
        None if required && name == ON_BAR.name => {
            return Err(format!(
                "the plugin does not export '{name}' (nor '{}', which replaces it from ABI version 4 on)",
                ON_BARS.name
            ))
        }
        None if required && name == ABI_VERSION_EXPORT => {
            return Err(format!(
                "the plugin does not export '{name}' nor has a '{ABI_VERSION_SECTION}' custom section \
                 (one of them is required by ABI version {ABI_VERSION})"
            ))
        }
        None if required => {
            return Err(format!("the plugin does not export '{name}' (required by ABI version {ABI_VERSION})"))
        }
        None => return Ok(()),
    };
    let results: Vec<ValType> = ty.results().collect();
    let ok_results = if returns_status { matches!(results.as_slice(), [ValType::I32]) } else { results.is_empty() };
    if ty.params().len() != 0 || !ok_results {
        let expected = if returns_status { "() -> i32" } else { "() -> ()" };
        return Err(format!("export '{name}' must have type {expected}, found {}", describe(&ty)));
    }
    Ok(())
}

/// `(i32, f64) -> (i64)`: a function type as [`HostFn::signature`] writes it.
pub(super) fn describe(ty: &FuncType) -> String {
    let list = |v: Vec<String>| v.join(", ");
    format!(
        "({}) -> ({})",
        list(ty.params().map(|t| t.to_string()).collect()),
        list(ty.results().map(|t| t.to_string()).collect())
    )
}

/// Checks that a plugin declaring ABI `version` imports only functions of
/// that version.
///
/// # Errors
/// An unsupported version, or an import added in a later version.
pub fn check_version(module: &Module, version: i32) -> Result<(), String> {
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(format!(
            "the plugin was built for ABI version {version}, but this host speaks versions {} to {ABI_VERSION}",
            SUPPORTED_VERSIONS[0]
        ));
    }
    if version < 4 && module.get_export(ON_BARS.name).is_some() {
        return Err(format!(
            "the plugin declares ABI version {version} but exports '{}', which ABI version 4 added; return 4 or later from {ABI_VERSION_EXPORT}",
            ON_BARS.name
        ));
    }
    // The import that needs the oldest version above the declared one;
    // names the table does not know are left to the linker, which refuses them.
    let too_new =
        module.imports().filter_map(|i| imports::find(i.name()).filter(|f| f.since > version)).min_by_key(|f| f.since);
    if let Some(HostFn { name, since, .. }) = too_new {
        return Err(format!(
            "the plugin declares ABI version {version} but imports 'bt.{name}', which ABI version {since} added; return {since} or later from {ABI_VERSION_EXPORT}"
        ));
    }
    Ok(())
}
