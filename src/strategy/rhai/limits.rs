//! Sandbox limits for Rhai strategies.

/// Bounds on what one Rhai strategy may use. Operation counts are per call
/// (the strategy starts Rhai's counter from zero on every call), so they
/// bound one `on_bar` in time; sizes bound strings, arrays and maps in memory.
///
/// Rhai's variable-count limit is left off: it adds about 0.1 µs to every
/// bar, and the number of variables a script can declare is already bounded
/// by its source size and call depth.
#[derive(Clone, Debug, PartialEq)]
pub struct RhaiLimits {
    /// Operations per call of `init`, `on_bar` or `on_finish`; a simple
    /// expression costs about 5 to 10.
    pub max_operations: u64,
    /// Depth of nested function calls; deeper recursion is a trap.
    pub max_call_levels: usize,
    /// Nesting depth of an expression at the top level, checked when compiling.
    pub max_expr_depth: usize,
    /// Nesting depth of an expression inside a function, checked when compiling.
    pub max_function_expr_depth: usize,
    /// Bytes.
    pub max_string_size: usize,
    /// Elements in one array.
    pub max_array_size: usize,
    /// Entries in one object map.
    pub max_map_size: usize,
    /// Functions a script may define.
    pub max_functions: usize,
    /// Bytes of source accepted.
    pub max_source_bytes: usize,
}

impl Default for RhaiLimits {
    fn default() -> Self {
        RhaiLimits {
            max_operations: 1_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 64 * 1024,
            max_array_size: 10_000,
            max_map_size: 10_000,
            max_functions: 256,
            max_source_bytes: 256 * 1024,
        }
    }
}

impl RhaiLimits {
    /// Applies the limits and the rest of the sandbox to `engine`: no
    /// `eval`, strict variables (a typo fails at compile time).
    pub fn apply(&self, engine: &mut rhai::Engine) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_levels)
            .set_max_expr_depths(self.max_expr_depth, self.max_function_expr_depth)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size)
            .set_max_functions(self.max_functions)
            .set_strict_variables(true);
        engine.disable_symbol("eval");
    }
}
