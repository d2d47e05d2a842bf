//! Exit codes, documented in `l402 --help` and the README.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | other failure (e.g. the server could not start) |
//! | 2 | bad input: usage, arguments, configuration |
//! | 3 | over budget: nothing was paid |
//! | 4 | payment failed |
//! | 5 | HTTP or network error |

/// Success.
pub const SUCCESS: u8 = 0;
/// Other failure.
pub const FAILURE: u8 = 1;
/// Bad input: usage, arguments, configuration.
pub const BAD_INPUT: u8 = 2;
/// Over budget: nothing was paid.
pub const OVER_BUDGET: u8 = 3;
/// The payment failed or is unresolved.
pub const PAYMENT_FAILED: u8 = 4;
/// HTTP or network error.
pub const NETWORK: u8 = 5;

/// The exit code for a buyer's failure.
pub fn for_client(category: l402_client::ErrorCategory) -> u8 {
    use l402_client::ErrorCategory as C;
    match category {
        C::BadInput => BAD_INPUT,
        C::OverBudget => OVER_BUDGET,
        C::PaymentFailed => PAYMENT_FAILED,
        C::Network => NETWORK,
        // `Local`, and any category a newer client adds.
        _ => FAILURE,
    }
}

/// Converts to a process exit code.
pub fn code(code: u8) -> std::process::ExitCode {
    std::process::ExitCode::from(code)
}

/// A typed error that carries its exit code through `anyhow`.
#[derive(Debug)]
pub struct Exit {
    /// The exit code.
    pub code: u8,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// `error` and its causes as one line, `outer: inner: innermost`, leaving out a cause whose
/// text the line already holds (many errors repeat their source in their own message).
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

/// An error with `code`.
pub fn with_code(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Exit {
        code,
        message: message.into(),
    })
}

/// The exit code for an error: its own if it carries one, [`BAD_INPUT`] for a seller error
/// the configuration must fix, else [`FAILURE`].
pub fn classify(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|e| {
            if let Some(exit) = e.downcast_ref::<Exit>() {
                return Some(exit.code);
            }
            e.downcast_ref::<l402_seller::SellerError>()
                .map(|s| if s.is_bad_input() { BAD_INPUT } else { FAILURE })
        })
        .unwrap_or(FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn causes_are_said_once() {
        let error = Layer(
            "cannot use LNbits: connection refused",
            Some(Box::new(Layer(
                "connection refused",
                Some(Box::new(Layer("os error 111", None))),
            ))),
        );
        assert_eq!(
            describe(&error),
            "cannot use LNbits: connection refused: os error 111"
        );
    }
}
