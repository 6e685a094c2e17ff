//! The `[SYMBOL=]PATH` data argument: which file holds which symbol's bars.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::domain::Symbol;

use super::error::DataError;
use crate::domain::{is_valid_symbol, SYMBOL_RULE};

/// One data source of a run: a symbol and the CSV file with its bars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSpec {
    /// The symbol the bars belong to.
    pub symbol: Symbol,
    /// The CSV file to load (not opened or checked by parsing).
    pub path: PathBuf,
}

impl DataSpec {
    /// Parses `SYMBOL=PATH` or `PATH`; with a bare path the symbol is the file
    /// stem (`data/GOOG.csv` gives `GOOG`, `orcl-1995-2014.csv` gives
    /// `orcl-1995-2014`).
    ///
    /// The argument is split at its first `=` when the part before it contains
    /// no path separator (`/` or `\`); otherwise the whole argument is a path.
    /// So `data/a=b.csv` is a path, and a symbol containing `/` (such as
    /// `EUR/USD`) cannot be given before `=`: name such files so their stem
    /// is the symbol, or use a symbol without `/`.
    ///
    /// Returns the spec; the file is not opened.
    ///
    /// # Errors
    /// [`DataError::InvalidSpec`] naming the argument when it is empty, the
    /// symbol (given or taken from the file stem) breaks the naming rule (1 to
    /// 32 ASCII letters, digits, `.`, `-`, `_`, `/`, `:`), or the path is empty
    /// or has no file name.
    pub fn parse(arg: &str) -> Result<DataSpec, DataError> {
        let invalid = |reason: String| DataError::InvalidSpec { arg: arg.to_owned(), reason };
        if arg.is_empty() {
            return Err(invalid("it is empty; give [SYMBOL=]PATH".to_owned()));
        }
        if let Some((symbol, path)) = arg.split_once('=') {
            if !symbol.contains(['/', '\\']) {
                if !is_valid_symbol(symbol) {
                    return Err(invalid(format!(
                        "symbol {symbol:?} before '=' is not valid: {SYMBOL_RULE} \
                         ('/' not before '=')"
                    )));
                }
                if path.is_empty() {
                    return Err(invalid("no path after '='".to_owned()));
                }
                return Ok(DataSpec { symbol: Symbol::new(symbol), path: PathBuf::from(path) });
            }
        }
        let path = Path::new(arg);
        let Some(stem) = path.file_stem() else {
            return Err(invalid("it names no file to take the symbol from; give SYMBOL=PATH".to_owned()));
        };
        let stem = stem.to_string_lossy();
        if !is_valid_symbol(&stem) {
            return Err(invalid(format!(
                "the file name gives symbol {stem:?}, which is not valid: {SYMBOL_RULE}; \
                 name the symbol with SYMBOL=PATH"
            )));
        }
        Ok(DataSpec { symbol: Symbol::new(&stem), path: path.to_path_buf() })
    }
}

impl FromStr for DataSpec {
    type Err = DataError;

    /// Same as [`DataSpec::parse`] (lets `clap` parse the argument).
    fn from_str(arg: &str) -> Result<DataSpec, DataError> {
        DataSpec::parse(arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_arguments() {
        let cases = [
            ("SPY=data/x.csv", "SPY", "data/x.csv"),
            ("data/GOOG.csv", "GOOG", "data/GOOG.csv"),
            ("GOOG.csv", "GOOG", "GOOG.csv"),
            ("/srv/data/orcl-1995-2014.csv", "orcl-1995-2014", "/srv/data/orcl-1995-2014.csv"),
            ("data/BRK.B.csv", "BRK.B", "data/BRK.B.csv"),
            ("data/noext", "noext", "data/noext"),
            ("ES:CME=../futures/es.csv", "ES:CME", "../futures/es.csv"),
            ("btc_usd=C:\\data\\btc.csv", "btc_usd", "C:\\data\\btc.csv"),
            ("X=a=b.csv", "X", "a=b.csv"),
        ];
        for (arg, symbol, path) in cases {
            let spec = DataSpec::parse(arg).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(spec.symbol.as_str(), symbol, "{arg}");
            assert_eq!(spec.path, Path::new(path), "{arg}");
            assert_eq!(arg.parse::<DataSpec>().unwrap(), spec);
        }
    }

    #[test]
    fn invalid_arguments_name_the_argument() {
        let cases = [
            ("", "empty"),
            ("bad sym=data/x.csv", "symbol \"bad sym\" before '='"),
            ("=data/x.csv", "symbol \"\" before '='"),
            ("SPY=", "no path after '='"),
            ("data/my file.csv", "the file name gives symbol \"my file\""),
            ("data/a=b.csv", "the file name gives symbol \"a=b\""),
            ("EUR/USD=eurusd.csv", "the file name gives symbol \"USD=eurusd\""),
            ("data/", "the file name gives symbol \"data\""),
            ("..", "names no file"),
            ("data/ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456.csv", "not valid"),
        ];
        for (arg, needle) in cases {
            let result = DataSpec::parse(arg);
            if arg == "data/" {
                // Path::file_stem ignores a trailing separator.
                assert_eq!(result.unwrap().symbol.as_str(), "data");
                continue;
            }
            let err = result.expect_err(arg);
            assert!(matches!(err, DataError::InvalidSpec { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("invalid data argument {arg:?}: ")), "{msg}");
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        }
    }
}
