//! The constrain engine without Python: regex IR in, exact token masks out.
//!
//! Data path: a versioned binary IR ([`wire`]) becomes a Thompson NFA over bytes ([`nfa`]), which a
//! lazy DFA ([`dfa`]) determinizes state by state on demand; the vocabulary is a flat depth-first
//! token trie ([`vocab`]) that one tight loop walks from a DFA state to give the allowed tokens
//! ([`walk`]); [`budget`] bounds how many tokens finish the output from a state. Every
//! input-driven quantity has a limit that fails with [`CoreError::LimitExceeded`].
#![forbid(unsafe_code)]

pub mod budget;
pub mod dfa;
pub mod error;
pub mod hyp;
pub mod nfa;
pub mod ops;
pub mod regular;
pub mod utf8;
pub mod vocab;
pub mod walk;
pub mod wire;

pub use error::CoreError;
pub use regular::Regular;
pub use vocab::Vocab;
