//! What a run's strategy used of its sandbox budget, as the results show it.

use std::fmt;

use serde::Serialize;

/// How close a sandboxed strategy came to its limits over one run; the
/// `sandbox` block of `--json` and of the service's run view, tagged by
/// `runtime`. Native strategies have none (`null`).
///
/// ```json
/// {"runtime": "rhai", "max_operations_per_call": 412, "operations_limit": 1000000}
/// {"runtime": "wasm", "fuel_used": 52000, "fuel_limit": 10000000,
///  "peak_memory_bytes": 1114112, "memory_limit_bytes": 67108864}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "runtime", rename_all = "snake_case")]
pub enum SandboxUsage {
    /// A Rhai script. Its operations are limited per call, so what counts
    /// is the call (`init`, one `on_bar`, `on_finish`) that ran the most.
    Rhai {
        /// Operations of the busiest call, as Rhai counts them against the
        /// limit (a simple expression costs about 5 to 10).
        max_operations_per_call: u64,
        /// The limit of one call (`RhaiLimits::max_operations`).
        operations_limit: u64,
    },
    /// A WASM plugin: its run budget (fuel or time) and its memory.
    Wasm(WasmUsage),
}

/// What a WASM plugin used: one of the two budgets, and its linear memory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WasmUsage {
    /// The fuel fields with `--wasm-fuel`, the time fields otherwise.
    #[serde(flatten)]
    pub budget: BudgetUsage,
    /// The guest's linear memory at its largest (its size at the end of
    /// the run: linear memory never shrinks).
    pub peak_memory_bytes: u64,
    /// The memory limit (`--wasm-memory-mib`).
    pub memory_limit_bytes: u64,
}

/// The budget of a WASM run and how much of it the run used; only the
/// fields of the budget the run had are present.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BudgetUsage {
    /// Instructions counted with fuel: deterministic.
    Fuel {
        /// Fuel the plugin consumed, from `init` to the end of the run.
        fuel_used: u64,
        /// Fuel the run was given (`--wasm-fuel`).
        fuel_limit: u64,
    },
    /// Wall-clock time from `init` to the end of `on_finish`, which is what
    /// the time budget counts (the engine's own work between calls into the
    /// plugin included); in milliseconds, and the one figure of a run's
    /// results that differs between two identical runs.
    Time {
        /// Time taken, in milliseconds.
        time_used_ms: f64,
        /// Time the run was allowed, in milliseconds.
        time_budget_ms: f64,
    },
}

impl fmt::Display for SandboxUsage {
    /// One line for the results table, e.g. `412 of 1,000,000 operations per
    /// call (0.04 %)` or `fuel 52,000 of 10,000,000 (0.52 %), memory 1.06 MiB
    /// of 64 MiB (1.66 %)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxUsage::Rhai { max_operations_per_call: used, operations_limit: limit } => write!(
                f,
                "{} of {} operations per call ({})",
                grouped(*used),
                grouped(*limit),
                percent(*used as f64, *limit as f64)
            ),
            SandboxUsage::Wasm(usage) => {
                match usage.budget {
                    BudgetUsage::Fuel { fuel_used, fuel_limit } => write!(
                        f,
                        "fuel {} of {} ({})",
                        grouped(fuel_used),
                        grouped(fuel_limit),
                        percent(fuel_used as f64, fuel_limit as f64)
                    )?,
                    BudgetUsage::Time { time_used_ms, time_budget_ms } => write!(
                        f,
                        "time {:.3} s of {} s ({})",
                        time_used_ms / 1000.0,
                        time_budget_ms / 1000.0,
                        percent(time_used_ms, time_budget_ms)
                    )?,
                }
                let (peak, limit) = (usage.peak_memory_bytes, usage.memory_limit_bytes);
                write!(f, ", memory {} of {} ({})", mib(peak), mib(limit), percent(peak as f64, limit as f64))
            }
        }
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `used` as a share of `limit`, `0.04 %`; a share too small to show in
/// two decimals is `< 0.01 %`, so that it does not read as nothing used.
fn percent(used: f64, limit: f64) -> String {
    if limit <= 0.0 {
        return "n/a".to_string();
    }
    let share = used / limit * 100.0;
    if share > 0.0 && share < 0.005 {
        "< 0.01 %".to_string()
    } else {
        format!("{share:.2} %")
    }
}

/// Bytes in MiB: whole MiB as such (`64 MiB`), the rest with two decimals.
fn mib(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{:.2} MiB", bytes as f64 / f64::from(1 << 20))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rhai_usage_reads_as_operations_per_call() {
        let usage = SandboxUsage::Rhai { max_operations_per_call: 412, operations_limit: 1_000_000 };
        assert_eq!(usage.to_string(), "412 of 1,000,000 operations per call (0.04 %)"); // 412 / 10^6 = 0.0412 %
        assert_eq!(
            serde_json::to_value(&usage).unwrap(),
            json!({"runtime": "rhai", "max_operations_per_call": 412, "operations_limit": 1_000_000})
        );
    }

    #[test]
    fn wasm_usage_has_the_fields_of_its_budget_only() {
        let fuel = SandboxUsage::Wasm(WasmUsage {
            budget: BudgetUsage::Fuel { fuel_used: 52_000, fuel_limit: 10_000_000 },
            peak_memory_bytes: 17 << 16,
            memory_limit_bytes: 64 << 20,
        });
        // 52,000 / 10^7 = 0.52 %; 17 pages of 64 KiB = 1.0625 MiB, / 64 MiB = 1.66 %
        assert_eq!(fuel.to_string(), "fuel 52,000 of 10,000,000 (0.52 %), memory 1.06 MiB of 64 MiB (1.66 %)");
        assert_eq!(
            serde_json::to_value(&fuel).unwrap(),
            json!({"runtime": "wasm", "fuel_used": 52_000, "fuel_limit": 10_000_000,
                   "peak_memory_bytes": 1_114_112, "memory_limit_bytes": 67_108_864})
        );
        let time = SandboxUsage::Wasm(WasmUsage {
            budget: BudgetUsage::Time { time_used_ms: 840.0, time_budget_ms: 60_000.0 },
            peak_memory_bytes: 1 << 20,
            memory_limit_bytes: 64 << 20,
        });
        // 0.84 s / 60 s = 1.40 %; 1 MiB / 64 MiB = 1.5625 %
        assert_eq!(time.to_string(), "time 0.840 s of 60 s (1.40 %), memory 1 MiB of 64 MiB (1.56 %)");
        let value = serde_json::to_value(&time).unwrap();
        assert_eq!(value["time_used_ms"], 840.0);
        assert_eq!(value["time_budget_ms"], 60_000.0);
        assert!(value.get("fuel_used").is_none() && value.get("fuel_limit").is_none(), "{value}");
    }

    #[test]
    fn a_share_too_small_for_two_decimals_is_not_shown_as_zero() {
        assert_eq!(percent(23.0, 1e6), "< 0.01 %"); // 0.0023 %
        assert_eq!(percent(0.0, 1e6), "0.00 %");
        assert_eq!(percent(50.0, 1e6), "0.01 %"); // 0.005 %, rounded up
        assert_eq!(percent(1.0, 0.0), "n/a");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(123_456_789), "123,456,789");
    }
}
