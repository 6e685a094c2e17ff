//! A sweep's constraint on its variants (`fast < slow`): a Rhai expression
//! over the axes' names, evaluated by a raw engine, with no functions, no
//! packages and a small operation limit, so that it can compare and compute
//! and nothing else.

use rhai::{Dynamic, Engine, Scope, AST};

use super::axis::Number;
use super::variants::Variant;
use super::SweepError;

/// Most operations one evaluation may take.
const MAX_OPERATIONS: u64 = 10_000;

/// A compiled constraint.
#[derive(Debug)]
pub struct Constraint {
    text: String,
    engine: Engine,
    ast: AST,
}

impl Constraint {
    /// Compiles `text`.
    ///
    /// # Errors
    /// A syntax error, with its position.
    pub fn parse(text: &str) -> Result<Constraint, SweepError> {
        let mut engine = Engine::new_raw();
        engine.set_max_operations(MAX_OPERATIONS);
        engine.set_max_expr_depths(64, 0);
        engine.set_max_string_size(1_000);
        let ast = engine
            .compile_expression(text)
            .map_err(|e| SweepError::Constraint { text: text.to_string(), reason: e.to_string() })?;
        Ok(Constraint { text: text.to_string(), engine, ast })
    }

    /// Whether `variant` satisfies the constraint.
    ///
    /// # Errors
    /// The expression names something that is not an axis, does not give a
    /// true or false, or fails (e.g. divides by zero).
    pub fn allows(&self, variant: &Variant<'_>) -> Result<bool, SweepError> {
        let mut scope = Scope::new();
        for (name, value) in &variant.values {
            let value = match value.number {
                Number::Int(i) => Dynamic::from_int(i),
                Number::Float(x) => Dynamic::from_float(x),
            };
            // A setting's name has a '-' (slippage-bps): reachable as slippage_bps.
            scope.push_dynamic(name.replace('-', "_"), value);
        }
        let fail = |reason: String| SweepError::Constraint { text: self.text.clone(), reason };
        let result: Dynamic =
            self.engine.eval_ast_with_scope(&mut scope, &self.ast).map_err(|e| fail(e.to_string()))?;
        result.as_bool().map_err(|t| fail(format!("it gives {t}, not true or false")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Axis, Selection, VariantSet};

    fn grid(axes: &[&str]) -> VariantSet {
        VariantSet::new(axes.iter().map(|a| Axis::parse(a).unwrap()).collect(), &Selection::Grid).unwrap()
    }

    #[test]
    fn a_constraint_compares_and_computes_over_the_axes() {
        let set = grid(&["fast=5:20:5", "slow=10:30:10", "k=0.5,1.5"]);
        let count = |text: &str| {
            let c = Constraint::parse(text).unwrap();
            set.iter().filter(|v| c.allows(v).unwrap()).count()
        };
        // fast in 5,10,15,20 and slow in 10,20,30: fast < slow holds for 1 + 2 + 3 + 3... pairs:
        // slow 10: fast 5 (1); slow 20: 5, 10, 15 (3); slow 30: all 4 (4) = 8 pairs, times 2 k's.
        assert_eq!(count("fast < slow"), 16);
        // fast * 2 <= slow: slow 10: fast 5; slow 20: 5, 10; slow 30: 5, 10, 15 = 6 pairs, one k each.
        assert_eq!(count("fast * 2 <= slow && k > 1.0"), 6);
        assert_eq!(count("true"), 24);
    }

    #[test]
    fn a_constraint_can_do_nothing_but_compute() {
        let set = grid(&["fast=5"]);
        let v = set.get(0);
        for (text, reason) in [
            ("fast <", "Script is incomplete"),
            ("print(fast)", "Function not found: print"),
            ("slow > 1", "Variable not found: slow"),
            ("fast + 1", "it gives i64, not true or false"),
            ("fast / 0 > 1", "Division by zero"),
            ("{ let x = 0; loop { x += 1; } }", "Unexpected '{'"), // statements are not expressions
        ] {
            let err = match Constraint::parse(text) {
                Ok(c) => c.allows(&v).unwrap_err(),
                Err(e) => e,
            };
            let err = err.to_string();
            assert!(err.contains(text) && err.contains(reason), "{text}: {err}");
        }
    }
}
