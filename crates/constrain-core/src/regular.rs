//! A regular constraint: the IR compiled to a lazy DFA, with masks over any vocabulary.

use crate::dfa::{LazyDfa, DEAD};
use crate::error::Result;
use crate::nfa;
use crate::vocab::Vocab;
use crate::walk;
use crate::wire;

/// A compiled regular language (one pattern, or the union of the IR's roots).
pub struct Regular {
    pub dfa: LazyDfa,
}

impl Regular {
    /// Decode `ir` and build its automaton, bounded by `max_states` DFA and `max_nfa_states` NFA states.
    pub fn compile(ir: &[u8], max_states: usize, max_nfa_states: usize) -> Result<Self> {
        let ir = wire::decode(ir)?;
        let nfa = nfa::build(&ir, max_nfa_states)?;
        Ok(Regular {
            dfa: LazyDfa::new(&nfa, max_states)?,
        })
    }

    pub fn start(&self) -> u32 {
        self.dfa.start
    }

    pub fn run(&mut self, state: u32, data: &[u8]) -> Result<u32> {
        self.dfa.run(state, data)
    }

    pub fn is_accepting(&self, state: u32) -> bool {
        state != DEAD && self.dfa.is_accepting(state)
    }

    pub fn accepts(&mut self, data: &[u8]) -> Result<bool> {
        let s = self.dfa.run(self.dfa.start, data)?;
        Ok(self.is_accepting(s))
    }

    pub fn forced_bytes(&mut self, state: u32, limit: usize) -> Result<Vec<u8>> {
        self.dfa.forced_bytes(state, limit)
    }

    pub fn mask(&mut self, vocab: &Vocab, state: u32) -> Result<Vec<u32>> {
        walk::mask(&mut self.dfa, vocab, state)
    }
}
