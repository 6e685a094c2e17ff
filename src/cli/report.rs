//! How an error that stops a command is printed: its message and each cause
//! it does not already state, once.

/// `err` and its causes, joined by `: `, leaving out a cause whose text the
/// message already holds (many errors, ours and the libraries', write their
/// source into their own message, and it would otherwise print twice).
pub fn error_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;
    use crate::data::DataError;

    #[test]
    fn a_missing_file_is_reported_once_with_its_path() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let err = anyhow::Error::new(DataError::Io { input: "data/goog.csv".into(), source: io });
        assert_eq!(error_message(&err), "data/goog.csv: cannot read: No such file or directory (os error 2)");
    }

    #[test]
    fn context_and_causes_that_say_something_new_are_kept() {
        let err: anyhow::Result<()> = Err(anyhow::anyhow!("connection refused")).context("migrating the database");
        assert_eq!(error_message(&err.unwrap_err()), "migrating the database: connection refused");
    }
}
