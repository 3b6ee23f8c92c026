//! Budget-aware closing: how many tokens always suffice to finish from a DFA state, and the mask
//! of tokens after which the output can still finish within a token budget.
//!
//! A state's distance is the length of the longest-match tokenization of its shortest completion
//! (the lexicographically least one: breadth-first search, bytes in ascending order), so it does
//! not depend on how the DFA numbers its states.

use crate::dfa::{LazyDfa, DEAD};
use crate::error::Result;
use crate::vocab::Vocab;
use crate::walk::walk_tokens;
use std::collections::{HashMap, VecDeque};

/// Distance of a state from which no completion was found.
pub const UNREACHABLE: u64 = 1 << 40;
/// States a completion search may visit before giving up.
pub const MAX_EXPLORED: usize = 100_000;

struct Entry {
    tokens: Vec<u32>,
    dists: Vec<u64>,
    worst: u64,
}

/// Per (DFA, vocabulary): memoized distances and per-state token distances.
#[derive(Default)]
pub struct Budget {
    dist: HashMap<u32, u64>,
    entries: HashMap<u32, Entry>,
}

/// The shortest byte string taking `state` to acceptance (`None` if none is found within the bound).
pub fn shortest_completion(dfa: &mut LazyDfa, state: u32) -> Result<Option<Vec<u8>>> {
    let mut parent: HashMap<u32, (u32, u8)> = HashMap::new();
    parent.insert(state, (u32::MAX, 0));
    let mut queue = VecDeque::from([state]);
    while let Some(s) = queue.pop_front() {
        if parent.len() > MAX_EXPLORED {
            break;
        }
        if dfa.is_accepting(s) {
            let mut out = Vec::new();
            let mut cur = s;
            while let Some(&(prev, byte)) = parent.get(&cur) {
                if prev == u32::MAX {
                    break;
                }
                out.push(byte);
                cur = prev;
            }
            out.reverse();
            return Ok(Some(out));
        }
        for c in 0..dfa.num_classes {
            let t = dfa.step_class(s, c)?;
            if t != DEAD && !parent.contains_key(&t) {
                parent.insert(t, (s, dfa.class_lo[c]));
                queue.push_back(t);
            }
        }
    }
    Ok(None)
}

impl Budget {
    /// Tokens that always suffice to take `state` to acceptance.
    pub fn distance(&mut self, dfa: &mut LazyDfa, vocab: &Vocab, state: u32) -> Result<u64> {
        if let Some(&d) = self.dist.get(&state) {
            return Ok(d);
        }
        let d = match shortest_completion(dfa, state)? {
            None => UNREACHABLE,
            Some(bytes) => vocab
                .greedy_tokens(&bytes)
                .map_or(UNREACHABLE, |t| t.len() as u64),
        };
        self.dist.insert(state, d);
        Ok(d)
    }

    fn entry(&mut self, dfa: &mut LazyDfa, vocab: &Vocab, state: u32) -> Result<&Entry> {
        if !self.entries.contains_key(&state) {
            let mut pairs: Vec<(u32, u32)> = Vec::new();
            walk_tokens(dfa, vocab, state, |tok, next| pairs.push((tok, next)))?;
            let mut tokens = Vec::with_capacity(pairs.len());
            let mut dists = Vec::with_capacity(pairs.len());
            for (tok, next) in pairs {
                tokens.push(tok);
                dists.push(self.distance(dfa, vocab, next)?);
            }
            let worst = dists.iter().copied().max().unwrap_or(0);
            self.entries.insert(
                state,
                Entry {
                    tokens,
                    dists,
                    worst,
                },
            );
        }
        Ok(&self.entries[&state])
    }

    /// The mask of tokens after which acceptance is at most `remaining - 1` tokens away (EOS if accepting).
    pub fn mask(
        &mut self,
        dfa: &mut LazyDfa,
        vocab: &Vocab,
        state: u32,
        remaining: i64,
    ) -> Result<Vec<u32>> {
        let mut words = vec![0u32; vocab.num_words()];
        if state != DEAD {
            let accepting = dfa.is_accepting(state);
            let entry = self.entry(dfa, vocab, state)?;
            let all = (entry.worst as i64) <= remaining - 1;
            for (&tok, &d) in entry.tokens.iter().zip(&entry.dists) {
                if all || (d as i64) <= remaining - 1 {
                    words[(tok >> 5) as usize] |= 1 << (tok & 31);
                }
            }
            if accepting {
                for &e in &vocab.eos {
                    words[(e >> 5) as usize] |= 1 << (e & 31);
                }
            }
        }
        Ok(words)
    }
}
