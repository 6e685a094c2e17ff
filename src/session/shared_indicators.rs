//! Indicator values computed once over a whole universe and shared,
//! read-only, by every run over that universe that declares them: the
//! variants of a sweep compute each distinct indicator (kind, arguments,
//! symbol) once instead of once per variant.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::indicators::IndicatorSpec;

/// Each output's value after each of its symbol's bars in the universe (NaN
/// where there is none).
pub type SharedOutputs = Arc<[Arc<[f64]>]>;

/// The indicators computed so far over one universe. Only runs over that
/// same universe (same symbols, same bars) may share one.
#[derive(Debug, Default)]
pub struct SharedIndicators {
    /// By symbol and the spec's exact text (its `Debug` form, which spells
    /// every argument, floats included, so that equal text means equal spec).
    values: Mutex<HashMap<(usize, String), SharedOutputs>>,
    computed: AtomicUsize,
}

impl SharedIndicators {
    /// An empty cache.
    pub fn new() -> Self {
        SharedIndicators::default()
    }

    /// How many distinct indicators have been computed.
    pub fn computed(&self) -> usize {
        self.computed.load(Ordering::Relaxed)
    }

    /// `spec` on `symbol`, computed by `compute` the first time it is asked for.
    pub(super) fn get_or_compute(
        &self,
        symbol: usize,
        spec: &IndicatorSpec,
        compute: impl FnOnce() -> Vec<Vec<f64>>,
    ) -> SharedOutputs {
        // A panic while computing leaves no half entry: the map is only
        // written after `compute` returned.
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (symbol, format!("{spec:?}"));
        if let Some(outputs) = values.get(&key) {
            return outputs.clone();
        }
        // Computed under the lock: another run asking for the same
        // indicator waits for it rather than computing it again.
        let outputs: SharedOutputs = compute().into_iter().map(Arc::from).collect();
        self.computed.fetch_add(1, Ordering::Relaxed);
        values.insert(key, outputs.clone());
        outputs
    }
}
