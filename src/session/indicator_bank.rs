//! The indicators a strategy declared, with a short history of values for
//! each output. They are computed a block of their symbol's bars ahead (see
//! [`IndicatorBank::attach_prices`]), or taken whole from indicators shared
//! between runs (a sweep's variants, see [`SharedIndicators`]), and each
//! step shows the values up to that step's bar; the tests check every value
//! against an oracle that updates each indicator bar by bar.

use std::sync::Arc;

use crate::data::Universe;
use crate::domain::{Bar, PriceField};
use crate::indicators::{IndicatorSpec, IndicatorState, Source, SourceColumns};

use super::{CtxError, SharedIndicators};

/// Most indicators one run may declare; with [`MAX_WINDOW`] this bounds the
/// host memory a strategy can make the engine hold for it.
pub const MAX_INDICATORS: usize = 256;
/// Longest indicator window, in bars.
pub const MAX_WINDOW: usize = 100_000;
/// How many bars of each symbol the indicators compute ahead at once (see
/// [`IndicatorBank::attach_prices`]): 16 KiB per output, which stays in cache.
const BLOCK: usize = 2048;

/// How a strategy names an indicator output: by the name it declared, or by
/// the handle the declaration returned (what WASM plugins use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndicatorRef<'a> {
    /// The declared name, or `name.output` for one output of several.
    Name(&'a str),
    /// The handle the declaration returned (one per output, from 0).
    Handle(usize),
}

impl<'a> From<&'a str> for IndicatorRef<'a> {
    fn from(name: &'a str) -> Self {
        IndicatorRef::Name(name)
    }
}

impl From<usize> for IndicatorRef<'_> {
    fn from(handle: usize) -> Self {
        IndicatorRef::Handle(handle)
    }
}

/// One declared indicator.
#[derive(Debug)]
struct Declared {
    symbol: usize,
    spec: IndicatorSpec,
    state: IndicatorState,
    first_output: usize,
    outputs: usize,
}

/// One output's values: a block of them computed ahead, of which a step
/// reads only those up to its own bar.
#[derive(Debug, Default)]
struct History {
    /// The symbol whose bars the output follows.
    symbol: usize,
    /// How many values back can be read (the lookback, at least 2).
    depth: usize,
    /// The output's value after each of its symbol's bars `start..`, up to
    /// as far as the block reaches (NaN where there is none); empty before
    /// the first block (see [`IndicatorBank::refill`]). Shared, it holds
    /// every bar of the symbol and is never refilled.
    block: Arc<[f64]>,
    /// The bar (of the output's symbol in the run) of `block[0]`.
    start: usize,
    /// A buffer the next block is built in (its capacity kept between blocks).
    spare: Vec<f64>,
}

impl History {
    fn with_depth(symbol: usize, depth: usize) -> Self {
        History { symbol, depth, block: Arc::from([]), start: 0, spare: Vec::new() }
    }

    /// The value now and one bar earlier (NaN where there is none), once
    /// the run has seen `seen` bars of the output's symbol. The block
    /// reaches bar `seen - 1` and holds the `depth - 1` bars before it;
    /// nothing later is read. Before the first block, `seen` is 0.
    #[inline]
    fn now_and_previous(&self, seen: usize) -> (f64, f64) {
        match seen.checked_sub(1 + self.start) {
            Some(at) => (self.block[at], if at >= 1 { self.block[at - 1] } else { f64::NAN }),
            None => (f64::NAN, f64::NAN),
        }
    }

    /// The value `k` bars back (0 = now), with `seen` bars of the symbol seen.
    #[inline]
    fn get(&self, k: usize, seen: usize) -> Option<f64> {
        if k >= seen.min(self.depth) {
            return None;
        }
        known(self.block[seen - 1 - k - self.start])
    }
}

/// `None` for the NaN that marks a missing value.
#[inline]
fn known(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

/// Every indicator of a run, by the names the strategy gave them.
#[derive(Debug, Default)]
pub struct IndicatorBank {
    /// Output name → index into `histories`, in declaration order.
    names: Vec<(String, usize)>,
    declared: Vec<Declared>,
    histories: Vec<History>,
    /// Indexes into `declared`, per symbol.
    by_symbol: Vec<Vec<usize>>,
    /// Which bar fields each symbol's indicators read (only those are
    /// converted to f64).
    sources: Vec<Sources>,
    /// Per symbol, the universe's whole f64 columns of the prices its
    /// indicators read, for a run of a sweep (see
    /// [`IndicatorBank::attach_prices`]); `None` for a lone run, whose
    /// blocks convert their own bars' prices.
    prices: Vec<Option<PriceColumns>>,
    depth: usize,
    /// What computing the blocks needs; `None` until the prices are
    /// attached, and for a bank without indicators.
    blocks: Option<Blocks>,
    /// How many bars of each symbol the run has seen, which is where each
    /// output's block is read.
    seen: Vec<usize>,
}

/// What computing the indicators in blocks needs besides the price columns.
#[derive(Debug)]
struct Blocks {
    /// The run's data, for the fields without a whole column.
    universe: Universe,
    /// Bars per block.
    block: usize,
    /// Per symbol, how many of its bars in the run have been computed
    /// (`usize::MAX` for a symbol without indicators).
    computed: Vec<usize>,
    /// Buffers for one block's fields that have no whole column (every
    /// field but a shared run's prices), by [`Source`] order.
    fields: [Vec<f64>; 5],
    /// One buffer per output of the widest indicator, for handing blocks to
    /// `run_columns` without allocating.
    outputs: Vec<Vec<f64>>,
}

/// One symbol's prices as f64 (`None` for fields no indicator reads), and
/// where the run's first bar sits in them.
#[derive(Debug)]
struct PriceColumns {
    columns: [Option<Arc<[f64]>>; 4],
    offset: usize,
}

impl IndicatorBank {
    /// An empty bank for a universe of `symbols` symbols.
    pub fn new(symbols: usize) -> Self {
        IndicatorBank {
            by_symbol: vec![Vec::new(); symbols],
            sources: vec![Sources::default(); symbols],
            prices: (0..symbols).map(|_| None).collect(),
            seen: vec![0; symbols],
            depth: 2,
            ..Default::default()
        }
    }

    /// Declares `spec` on `symbol` under `name`. A multi-output indicator
    /// answers to `name` (its first output) and `name.<output>` for each
    /// output, e.g. `m`, `m.line`, `m.signal`, `m.hist` for MACD.
    ///
    /// # Errors
    /// The name is taken or empty, or the spec's arguments are invalid.
    pub(super) fn declare(&mut self, name: &str, symbol: usize, spec: IndicatorSpec) -> Result<usize, CtxError> {
        if name.is_empty() || name.contains('.') {
            return Err(CtxError::BadIndicatorName(name.to_string()));
        }
        let outputs = spec.outputs();
        let mut new_names = vec![name.to_string()];
        if outputs.len() > 1 {
            new_names.extend(outputs.iter().map(|o| format!("{name}.{o}")));
        }
        if let Some(taken) = new_names.iter().find(|n| self.find(n).is_some()) {
            return Err(CtxError::DuplicateIndicator(taken.clone()));
        }
        if self.declared.len() >= MAX_INDICATORS {
            return Err(CtxError::Indicator(format!("at most {MAX_INDICATORS} indicators can be declared")));
        }
        if spec.window() > MAX_WINDOW {
            return Err(CtxError::Indicator(format!(
                "{spec}: windows longer than {MAX_WINDOW} bars are not supported"
            )));
        }
        let state = spec.build().map_err(|e| CtxError::Indicator(e.to_string()))?;
        let first_output = self.histories.len();
        self.names.push((name.to_string(), first_output));
        if outputs.len() > 1 {
            for (i, output) in outputs.iter().enumerate() {
                self.names.push((format!("{name}.{output}"), first_output + i));
            }
        }
        for _ in outputs {
            self.histories.push(History::with_depth(symbol, self.depth));
        }
        self.sources[symbol].add(&spec);
        self.by_symbol[symbol].push(self.declared.len());
        self.declared.push(Declared { symbol, spec, state, first_output, outputs: outputs.len() });
        Ok(first_output)
    }

    /// Keeps `depth` (at least 2, so that crossings can be seen) past values
    /// of each output. Called once after init, before `attach_prices`.
    pub(super) fn set_depth(&mut self, depth: usize) {
        debug_assert!(self.blocks.is_none(), "the depth is set before the prices are attached");
        self.depth = depth.max(2);
        for h in &mut self.histories {
            *h = History::with_depth(h.symbol, self.depth);
        }
    }

    /// Reads the prices of `universe` (the run's) as f64, and from then on
    /// computes the indicators a block of bars ahead: each
    /// block runs every indicator of a symbol over its next [`BLOCK`] bars at
    /// once (the same updates in the same order as bar by bar, without
    /// matching on each indicator's kind on every bar), and each step only
    /// records how far the symbol has got, which is where its outputs are
    /// read, so no step reads a value later than its own. Called once after
    /// init, when the indicators are known.
    ///
    /// With `shared`, each indicator's values over the whole universe come
    /// from there instead, computed by the first run that asks for them
    /// from the universe's whole price columns (kept with the data for every
    /// run of a sweep). Without, each block converts its own bars' prices,
    /// so that a lone run holds no column of the whole series.
    pub(super) fn attach_prices(&mut self, universe: &Universe, shared: Option<&SharedIndicators>) {
        self.attach_prices_in_blocks(universe, BLOCK, shared.is_some());
        if let Some(shared) = shared {
            self.share(universe, shared);
        }
    }

    /// Takes every indicator's values over the whole universe from `shared`
    /// (computing those it lacks), so that no block is ever computed here.
    fn share(&mut self, universe: &Universe, shared: &SharedIndicators) {
        let Some(blocks) = self.blocks.as_mut() else { return };
        for d in &self.declared {
            let s = d.symbol;
            let bars = universe.bars(s);
            let outputs = shared.get_or_compute(s, &d.spec, || {
                let mut fields = Default::default();
                fill_fields(&mut fields, bars, self.sources[s], self.prices[s].is_some());
                let columns = source_columns(self.prices[s].as_ref(), &fields, 0, bars.len());
                let mut out = vec![Vec::with_capacity(bars.len()); d.outputs];
                // The declared state has seen no bar yet: a copy starts where a run does.
                d.state.clone().run_columns(&columns, &mut out);
                out
            });
            for (h, values) in self.histories[d.first_output..d.first_output + d.outputs].iter_mut().zip(outputs.iter())
            {
                debug_assert_eq!(values.len(), bars.len(), "shared over the same universe");
                h.block = values.clone();
                h.start = 0;
            }
            blocks.computed[s] = bars.len();
        }
    }

    /// [`IndicatorBank::attach_prices`] with blocks of `block` (≥ 1) bars,
    /// reading prices from the universe's `whole` columns or block by block.
    fn attach_prices_in_blocks(&mut self, universe: &Universe, block: usize, whole: bool) {
        for (s, sources) in self.sources.iter().enumerate() {
            if self.by_symbol[s].is_empty() || !whole {
                continue;
            }
            let mut columns = [None, None, None, None];
            let mut offset = 0;
            for field in PriceField::ALL {
                if sources.0[field as usize] {
                    let (column, start) = universe.price_column(s, field);
                    columns[field as usize] = Some(column);
                    offset = start;
                }
            }
            self.prices[s] = Some(PriceColumns { columns, offset });
        }
        if !self.declared.is_empty() {
            let widest = self.declared.iter().map(|d| d.outputs).max().unwrap_or(1);
            self.blocks = Some(Blocks {
                universe: universe.clone(),
                block: block.max(1),
                // A symbol without indicators has nothing to compute, ever.
                computed: self.by_symbol.iter().map(|d| if d.is_empty() { usize::MAX } else { 0 }).collect(),
                fields: Default::default(),
                outputs: vec![Vec::new(); widest],
            });
        }
    }

    /// Computes symbol `s`'s indicators over its next block of bars, so that
    /// the blocks reach bar `seen - 1`; each output's block keeps the
    /// `depth - 1` values before that for lookbacks.
    fn refill(&mut self, s: usize, seen: usize) {
        let Some(blocks) = self.blocks.as_mut() else { return };
        let from = blocks.computed[s];
        let bars = blocks.universe.bars(s);
        let to = (from + blocks.block).max(seen).min(bars.len());
        fill_fields(&mut blocks.fields, &bars[from..to], self.sources[s], self.prices[s].is_some());
        let columns = source_columns(self.prices[s].as_ref(), &blocks.fields, from, to);
        let keep = self.depth - 1;
        for &i in &self.by_symbol[s] {
            let d = &mut self.declared[i];
            let histories = &mut self.histories[d.first_output..d.first_output + d.outputs];
            for (h, out) in histories.iter_mut().zip(&mut blocks.outputs) {
                let kept = keep.min(h.block.len());
                *out = std::mem::take(&mut h.spare);
                out.clear();
                out.extend_from_slice(&h.block[h.block.len() - kept..]);
                h.start = from - kept;
            }
            d.state.run_columns(&columns, &mut blocks.outputs[..d.outputs]);
            for (h, out) in histories.iter_mut().zip(&mut blocks.outputs) {
                h.block = Arc::from(out.as_slice());
                h.spare = std::mem::take(out);
                // Every field an indicator reads has its column (see `sources`), so each block
                // reaches `to`; an unread field's empty slice is never read.
                debug_assert_eq!(h.start + h.block.len(), to, "a block reaches the bars computed");
            }
        }
        blocks.computed[s] = to;
    }

    /// How many past values of each output can be read.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Records how far each symbol with a fresh bar has got, which is where
    /// its outputs' blocks are read, computing the next block when the last
    /// one is used up; `seen[s]` is how many bars of symbol s the run has
    /// seen (its fresh bar is the last of them). Does nothing before the
    /// prices are attached.
    #[inline]
    pub(super) fn update(&mut self, fresh: &[Option<Bar>], seen: &[usize]) {
        if self.blocks.is_none() {
            return;
        }
        for (s, bar) in fresh.iter().enumerate() {
            if bar.is_none() {
                continue;
            }
            self.seen[s] = seen[s];
            if self.blocks.as_ref().is_some_and(|b| seen[s] > b.computed[s]) {
                self.refill(s, seen[s]);
            }
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().find(|(n, _)| n == name).map(|(_, i)| *i)
    }

    /// The value of output `name`, `k` of its symbol's bars back (0 = now);
    /// `None` until the indicator is ready.
    ///
    /// # Errors
    /// An undeclared name, or `k` beyond the kept history.
    #[inline]
    pub fn value(&self, r: IndicatorRef<'_>, k: usize) -> Result<Option<f64>, CtxError> {
        let history = self.history(r)?;
        if k >= self.depth {
            return Err(CtxError::BeyondLookback { k, lookback: self.depth });
        }
        Ok(history.get(k, self.seen[history.symbol]))
    }

    /// The values of output `name` now and one bar earlier.
    ///
    /// # Errors
    /// An undeclared name.
    #[inline]
    pub fn now_and_previous(&self, r: IndicatorRef<'_>) -> Result<(Option<f64>, Option<f64>), CtxError> {
        let history = self.history(r)?;
        let (now, previous) = history.now_and_previous(self.seen[history.symbol]);
        Ok((known(now), known(previous)))
    }

    /// How many outputs the declared indicators have (handles run from 0 to this).
    pub fn outputs(&self) -> usize {
        self.histories.len()
    }

    /// Each output's value now and one bar earlier (NaN where there is
    /// none), in handle order: what a WASM plugin's shared area receives
    /// before each bar.
    #[inline]
    pub fn latest(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.histories.iter().map(move |h| h.now_and_previous(self.seen[h.symbol]))
    }

    /// The handle of output `r`.
    ///
    /// # Errors
    /// An undeclared name or an unknown handle.
    pub fn handle_of(&self, r: IndicatorRef<'_>) -> Result<usize, CtxError> {
        Ok(match r {
            IndicatorRef::Name(name) => self.find(name).ok_or_else(|| CtxError::UnknownIndicator {
                name: name.to_string(),
                declared: self.declared_names(),
            })?,
            IndicatorRef::Handle(h) if h < self.histories.len() => h,
            IndicatorRef::Handle(h) => {
                return Err(CtxError::UnknownIndicatorHandle { handle: h, count: self.histories.len() })
            }
        })
    }

    fn history(&self, r: IndicatorRef<'_>) -> Result<&History, CtxError> {
        Ok(&self.histories[self.handle_of(r)?])
    }

    /// The symbol an output belongs to.
    pub fn symbol_of(&self, name: &str) -> Option<usize> {
        let i = self.find(name)?;
        self.declared.iter().find(|d| (d.first_output..d.first_output + d.outputs).contains(&i)).map(|d| d.symbol)
    }

    fn declared_names(&self) -> String {
        if self.names.is_empty() {
            return "(none)".to_string();
        }
        self.names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Fills `fields` with the fields of `bars` that some indicator reads and
/// that have no whole column: the volume, and the prices unless `whole`.
fn fill_fields(fields: &mut [Vec<f64>; 5], bars: &[Bar], sources: Sources, whole: bool) {
    for (k, field) in fields.iter_mut().enumerate() {
        field.clear();
        let price = PriceField::ALL.get(k).copied();
        if !sources.0[k] || (whole && price.is_some()) {
            continue;
        }
        match price {
            Some(price) => field.extend(bars.iter().map(|b| b.narrow(price).to_f64())),
            None => field.extend(bars.iter().map(|b| b.volume)),
        }
    }
}

/// The inputs of a symbol's bars `from..to` (of the run): its whole price
/// columns' slices where it has them, else the block's `fields` (filled by
/// [`fill_fields`] for those bars); an unread field is an empty slice,
/// which no indicator reads.
fn source_columns<'a>(
    prices: Option<&'a PriceColumns>,
    fields: &'a [Vec<f64>; 5],
    from: usize,
    to: usize,
) -> SourceColumns<'a> {
    let price = |field: PriceField| -> &'a [f64] {
        match prices.and_then(|p| p.columns[field as usize].as_ref().map(|c| &c[p.offset + from..p.offset + to])) {
            Some(column) => column,
            None => &fields[field as usize],
        }
    };
    SourceColumns {
        open: price(PriceField::Open),
        high: price(PriceField::High),
        low: price(PriceField::Low),
        close: price(PriceField::Close),
        volume: &fields[Source::Volume as usize],
    }
}

/// The bar fields some indicators read.
#[derive(Clone, Copy, Debug, Default)]
struct Sources([bool; 5]);

impl Sources {
    fn add(&mut self, spec: &IndicatorSpec) {
        match spec.source() {
            Some(source) => self.0[source as usize] = true,
            // ATR reads the range and the close.
            None => {
                for source in [Source::High, Source::Low, Source::Close] {
                    self.0[source as usize] = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::data::synthetic::random_walk;
    use crate::domain::num::to_f64;
    use crate::domain::{Symbol, Timestamp};
    use crate::indicators::BarInput;
    use crate::session::MarketView;

    /// The oracle: each declared indicator updated bar by bar with its
    /// symbol's bars converted to f64, every value kept.
    struct BarByBar {
        /// Per declared indicator: its symbol, state, first output and
        /// number of outputs.
        declared: Vec<(usize, IndicatorState, usize, usize)>,
        /// Per output, its value after each of its symbol's bars (None where
        /// there is none).
        values: Vec<Vec<Option<f64>>>,
    }

    impl BarByBar {
        fn new(declared: &[(usize, IndicatorSpec)]) -> Self {
            let mut oracle = BarByBar { declared: Vec::new(), values: Vec::new() };
            for (symbol, spec) in declared {
                let outputs = spec.outputs().len();
                oracle.declared.push((*symbol, spec.build().unwrap(), oracle.values.len(), outputs));
                oracle.values.extend(spec.outputs().iter().map(|_| Vec::new()));
            }
            oracle
        }

        fn update(&mut self, fresh: &[Option<Bar>]) {
            for (symbol, state, first, outputs) in &mut self.declared {
                let Some(bar) = fresh[*symbol] else { continue };
                let input = BarInput {
                    open: to_f64(bar.open()),
                    high: to_f64(bar.high()),
                    low: to_f64(bar.low()),
                    close: to_f64(bar.close()),
                    volume: bar.volume,
                };
                state.update(&input);
                for o in 0..*outputs {
                    self.values[*first + o].push(state.value(o).filter(|x| !x.is_nan()));
                }
            }
        }

        /// Every output's value `k` bars back for k below `depth`, as bits.
        fn readings(&self, depth: usize) -> Vec<Option<u64>> {
            self.values
                .iter()
                .flat_map(|v| (0..depth).map(move |k| v.len().checked_sub(1 + k).and_then(|i| v[i])))
                .map(|x| x.map(f64::to_bits))
                .collect()
        }

        /// Every output's value now and one bar earlier, NaN where there is none, as bits.
        fn latest(&self) -> Vec<(u64, u64)> {
            let back = |v: &Vec<Option<f64>>, k: usize| {
                v.len().checked_sub(1 + k).and_then(|i| v[i]).unwrap_or(f64::NAN).to_bits()
            };
            self.values.iter().map(|v| (back(v, 0), back(v, 1))).collect()
        }
    }

    /// Every output's values `k` bars back (k below the depth), as bits.
    fn readings(bank: &IndicatorBank) -> Vec<Option<u64>> {
        (0..bank.outputs())
            .flat_map(|h| (0..bank.depth()).map(move |k| (h, k)))
            .map(|(h, k)| bank.value(IndicatorRef::Handle(h), k).unwrap().map(f64::to_bits))
            .collect()
    }

    fn latest(bank: &IndicatorBank) -> Vec<(u64, u64)> {
        bank.latest().map(|(a, b)| (a.to_bits(), b.to_bits())).collect()
    }

    /// A bank over `universe` with `declared` (named i0, i1, ...), a
    /// lookback of `depth` and blocks of `block` bars, stepped through
    /// every bar with prices converted block by block (as a lone run does);
    /// `check` sees it and the oracle after each step.
    fn step_through(
        universe: &Universe,
        declared: &[(usize, IndicatorSpec)],
        depth: usize,
        block: usize,
        check: impl FnMut(&IndicatorBank, &BarByBar),
    ) {
        step_through_with(universe, declared, depth, block, Prices::Columns(false), check);
    }

    /// Where a stepped-through bank takes its prices or values from.
    enum Prices<'a> {
        /// Its own blocks, from whole price columns (true) or not.
        Columns(bool),
        /// The values of a sweep's shared indicators.
        Shared(&'a SharedIndicators),
    }

    /// [`step_through`], taking the values from `shared`.
    fn step_through_sharing(
        universe: &Universe,
        declared: &[(usize, IndicatorSpec)],
        depth: usize,
        block: usize,
        shared: &SharedIndicators,
        check: impl FnMut(&IndicatorBank, &BarByBar),
    ) {
        step_through_with(universe, declared, depth, block, Prices::Shared(shared), check);
    }

    fn step_through_with(
        universe: &Universe,
        declared: &[(usize, IndicatorSpec)],
        depth: usize,
        block: usize,
        prices: Prices<'_>,
        mut check: impl FnMut(&IndicatorBank, &BarByBar),
    ) {
        let mut bank = IndicatorBank::new(universe.symbols().len());
        for (i, (symbol, spec)) in declared.iter().enumerate() {
            bank.declare(&format!("i{i}"), *symbol, *spec).unwrap();
        }
        bank.set_depth(depth);
        let whole = !matches!(prices, Prices::Columns(false));
        bank.attach_prices_in_blocks(universe, block, whole);
        if let Prices::Shared(shared) = prices {
            bank.share(universe, shared);
        }
        assert!(bank.blocks.is_some());
        assert!(bank.by_symbol.iter().zip(&bank.prices).all(|(d, p)| p.is_some() == (whole && !d.is_empty())));
        let mut oracle = BarByBar::new(declared);
        let mut market = MarketView::new(universe.clone(), 0);
        for &ts in universe.timeline() {
            market.advance(ts);
            bank.update(market.fresh(), market.seen());
            oracle.update(market.fresh());
            check(&bank, &oracle);
        }
    }

    /// One symbol whose bars close at `closes`, a minute apart.
    fn closing_at(closes: &[i64]) -> Universe {
        let bars = closes
            .iter()
            .enumerate()
            .map(|(i, &close)| {
                let c = Decimal::from(close);
                Bar::from_decimals(Timestamp(i as i64 * 60_000), [c; 4], 0.0).unwrap()
            })
            .collect();
        Universe::new(vec![(Symbol::new("A"), bars)]).unwrap()
    }

    #[test]
    fn values_computed_in_blocks_match_updating_each_bar() {
        // Two symbols on different clocks (B has a bar every other minute
        // and starts later), sliced so that the run's first bars are not
        // the columns' first.
        let a = random_walk(400, 7, Timestamp(0), 60_000);
        let b = random_walk(150, 9, Timestamp(30 * 60_000), 120_000);
        let whole = Universe::new(vec![(Symbol::new("A"), a), (Symbol::new("B"), b)]).unwrap();
        let universe = whole.slice(Some(whole.timeline()[50]), None).unwrap();
        let declared = [
            (0, IndicatorSpec::Sma { period: 5, source: Source::Open }),
            (0, IndicatorSpec::Ema { period: 7, source: Source::Volume }),
            (1, IndicatorSpec::Atr { period: 14 }),
            (1, IndicatorSpec::Bollinger { period: 20, k: 2.0, source: Source::Close }),
            (1, IndicatorSpec::Macd { fast: 3, slow: 8, signal: 4, source: Source::High }),
            (0, IndicatorSpec::Lowest { period: 6, source: Source::Low }),
        ];
        // Prices converted block by block (a lone run) and read from whole columns.
        for (depth, whole) in [(2, false), (4, false), (2, true), (4, true)] {
            // One bar per block, a block that ends mid-run, and one block for the whole run.
            for block in [1, 7, BLOCK] {
                let mut ready = false;
                let at = format!("depth {depth}, block {block}, whole columns {whole}");
                step_through_with(&universe, &declared, depth, block, Prices::Columns(whole), |bank, oracle| {
                    assert_eq!(readings(bank), oracle.readings(depth), "{at}");
                    assert_eq!(latest(bank), oracle.latest(), "shared values, {at}");
                    ready = bank.latest().all(|(now, _)| !now.is_nan());
                });
                assert!(ready, "not vacuous: every output is ready at the end");
            }
        }
    }

    #[test]
    fn shared_values_match_updating_each_bar_and_are_computed_once() {
        let a = random_walk(300, 11, Timestamp(0), 60_000);
        let b = random_walk(120, 13, Timestamp(20 * 60_000), 120_000);
        let whole = Universe::new(vec![(Symbol::new("A"), a), (Symbol::new("B"), b)]).unwrap();
        let universe = whole.slice(Some(whole.timeline()[30]), None).unwrap();
        let declared = [
            (0, IndicatorSpec::Sma { period: 5, source: Source::Open }),
            (1, IndicatorSpec::Atr { period: 14 }),
            (1, IndicatorSpec::Macd { fast: 3, slow: 8, signal: 4, source: Source::Volume }),
            (0, IndicatorSpec::Bollinger { period: 10, k: 1.5, source: Source::Close }),
        ];
        let shared = SharedIndicators::new();
        // The first run computes, the second (another lookback) only reads.
        for depth in [2, 5] {
            let mut ready = false;
            step_through_sharing(&universe, &declared, depth, BLOCK, &shared, |bank, oracle| {
                assert_eq!(readings(bank), oracle.readings(depth), "depth {depth}");
                assert_eq!(latest(bank), oracle.latest(), "depth {depth}");
                ready = bank.latest().all(|(now, _)| !now.is_nan());
            });
            assert!(ready, "not vacuous: every output is ready at the end");
        }
        assert_eq!(shared.computed(), 4, "four distinct indicators, each computed once");
        // A Bollinger band with another k is another indicator.
        let other = [(0, IndicatorSpec::Bollinger { period: 10, k: 2.0, source: Source::Close })];
        step_through_sharing(&universe, &other, 2, BLOCK, &shared, |_, _| {});
        assert_eq!(shared.computed(), 5);
    }

    #[test]
    fn nothing_is_read_before_the_prices_are_attached() {
        // What `init` sees: declared indicators, no bars yet.
        let mut bank = IndicatorBank::new(1);
        bank.declare("s", 0, IndicatorSpec::Sma { period: 1, source: Source::Close }).unwrap();
        bank.update(&[None], &[0]);
        assert_eq!(bank.value(IndicatorRef::Name("s"), 0).unwrap(), None);
        assert_eq!(bank.now_and_previous(IndicatorRef::Name("s")).unwrap(), (None, None));
        assert!(bank.latest().all(|(now, previous)| now.is_nan() && previous.is_nan()));
    }

    #[test]
    fn blocks_keep_only_the_lookback_before_the_latest_block() {
        let universe = Universe::new(vec![(Symbol::new("A"), random_walk(100, 3, Timestamp(0), 60_000))]).unwrap();
        let mut bank = IndicatorBank::new(1);
        bank.declare("s", 0, IndicatorSpec::Sma { period: 3, source: Source::Close }).unwrap();
        bank.set_depth(5);
        bank.attach_prices_in_blocks(&universe, 10, false);
        let mut market = MarketView::new(universe.clone(), 0);
        for &ts in universe.timeline() {
            market.advance(ts);
            bank.update(market.fresh(), market.seen());
            let h = &bank.histories[0];
            assert!(h.block.len() <= 10 + 4, "a block and the 4 values before it, got {}", h.block.len());
            assert!(h.start + h.block.len() >= market.seen()[0], "the block reaches the latest bar");
        }
    }

    #[test]
    fn keeps_a_history_of_each_output() {
        let sma2 = [(0, IndicatorSpec::Sma { period: 2, source: Source::Close })];
        let mut step = 0;
        step_through(&closing_at(&[1, 3, 5, 7]), &sma2, 3, 2, |bank, _| {
            step += 1;
            if step == 4 {
                assert_eq!(bank.value(IndicatorRef::Name("i0"), 0).unwrap(), Some(6.0)); // (5 + 7) / 2
                assert_eq!(bank.value(IndicatorRef::Name("i0"), 1).unwrap(), Some(4.0)); // (3 + 5) / 2
                assert_eq!(bank.value(IndicatorRef::Name("i0"), 2).unwrap(), Some(2.0)); // (1 + 3) / 2
                assert!(bank.value(IndicatorRef::Name("i0"), 3).is_err(), "beyond the kept history");
            }
        });
        assert_eq!(step, 4);
    }

    #[test]
    fn short_and_long_lookbacks_read_the_same_values() {
        let sma1 = [(0, IndicatorSpec::Sma { period: 1, source: Source::Close })];
        for depth in [2, 3, 5, 8] {
            let mut c = 0;
            step_through(&closing_at(&[1, 2, 3, 4, 5, 6, 7]), &sma1, depth, 3, |bank, _| {
                c += 1;
                for k in 0..depth {
                    let expected = (k < c as usize).then(|| (c - k as i64) as f64);
                    assert_eq!(
                        bank.value(IndicatorRef::Name("i0"), k).unwrap(),
                        expected,
                        "depth {depth}, bar {c}, k {k}"
                    );
                }
                assert!(bank.value(IndicatorRef::Name("i0"), depth).is_err(), "beyond the kept history");
                let previous = if c > 1 { (c - 1) as f64 } else { f64::NAN };
                assert_eq!(latest(bank), vec![((c as f64).to_bits(), previous.to_bits())]);
            });
            assert_eq!(c, 7);
        }
    }

    #[test]
    fn multi_output_indicators_answer_to_each_output_name() {
        let bollinger = [(0, IndicatorSpec::Bollinger { period: 2, k: 1.0, source: Source::Close })];
        let mut step = 0;
        step_through(&closing_at(&[1, 3]), &bollinger, 2, 1, |bank, _| {
            step += 1;
            let read = |name| bank.value(IndicatorRef::Name(name), 0).unwrap();
            if step == 1 {
                assert_eq!(read("i0.upper"), None, "not ready after one bar");
            } else {
                assert_eq!(read("i0"), Some(2.0)); // middle (1 + 3) / 2
                assert_eq!(read("i0.upper"), Some(3.0)); // 2 + 1 * population sd 1
                assert_eq!(read("i0.lower"), Some(1.0));
            }
        });
        let mut bank = IndicatorBank::new(1);
        bank.declare("bb", 0, bollinger[0].1).unwrap();
        let err = bank.value(IndicatorRef::Name("bbb"), 0).unwrap_err().to_string();
        assert!(err.contains("bb.middle, bb.upper, bb.lower"), "{err}");
        let huge = bank.declare("huge", 0, IndicatorSpec::Sma { period: 1_000_000, source: Source::Close });
        assert!(huge.unwrap_err().to_string().contains("windows longer than 100000 bars"));
        let dup = bank.declare("bb", 0, IndicatorSpec::Sma { period: 2, source: Source::Close });
        assert!(matches!(dup, Err(CtxError::DuplicateIndicator(_))));
    }
}
