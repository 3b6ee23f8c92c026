//! Every error the core returns: one enum, mapped once onto Python exceptions by the binding.

use std::fmt;

/// What went wrong, with enough detail for a message that says what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// An explicit limit (automaton states, NFA states, IR depth) was reached.
    LimitExceeded {
        what: &'static str,
        limit: u64,
        hint: &'static str,
    },
    /// The IR byte string is malformed; `offset` is where decoding stopped.
    BadIr { offset: usize, reason: String },
    /// The vocabulary is inconsistent (an id past the logits width, ...).
    BadVocab(String),
    /// A state id that the automaton never created.
    BadState(u32),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::LimitExceeded { what, limit, hint } => {
                write!(f, "{what} limit of {limit} exceeded")?;
                if !hint.is_empty() {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            CoreError::BadIr { offset, reason } => {
                write!(f, "malformed constraint IR at byte {offset}: {reason}")
            }
            CoreError::BadVocab(reason) => write!(f, "bad vocabulary: {reason}"),
            CoreError::BadState(state) => write!(f, "no automaton state {state}"),
        }
    }
}

impl std::error::Error for CoreError {}

/// Results of the core.
pub type Result<T> = std::result::Result<T, CoreError>;
