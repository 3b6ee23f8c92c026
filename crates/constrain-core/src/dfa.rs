//! Lazy byte-level DFA by subset construction: a state is created when first reached.
//!
//! Bytes are grouped into classes no NFA edge tells apart, so the transition table is a flat
//! `states x classes` array of `u32`, filled row by row on demand. State 0 is dead; every other
//! state can still reach acceptance (NFA states that cannot are pruned), so "not dead" means
//! "viable prefix".

use crate::error::{CoreError, Result};
use crate::nfa::Nfa;
use std::collections::HashMap;

pub const DEAD: u32 = 0;
pub const DEFAULT_MAX_STATES: usize = 50_000;
const UNEXPANDED: u32 = u32::MAX;

/// A deterministic automaton over bytes, expanded state by state.
#[derive(Debug, Clone)]
pub struct LazyDfa {
    eps: Vec<Vec<u32>>,
    nfa_tag: Vec<Option<u32>>,
    owner: Vec<Option<u32>>,
    /// Words of a per-state tag bitset (`ceil(tags / 64)`, at least 1).
    pub tag_words: usize,
    /// Per DFA state: the id of its set of completed tags (accepting patterns), in `tag_sets`.
    pub tag_set_id: Vec<u32>,
    pub tag_sets: Vec<Box<[u32]>>,
    tag_set_index: HashMap<Box<[u32]>, u32>,
    /// Per DFA state, `tag_words` words: the tags whose fragments it is inside (can still complete).
    pub possible: Vec<u64>,
    unions: HashMap<(u32, u32), u32>,
    /// Per NFA state: moves as `(first class, last class, target)`.
    moves: Vec<Vec<(u16, u16, u32)>>,
    nfa_accept: Vec<bool>,
    closures: Vec<Option<Box<[u32]>>>,
    mark: Vec<u32>,
    generation: u32,
    /// The class of each byte.
    pub byte_class: [u16; 256],
    /// Lowest byte of each class.
    pub class_lo: Vec<u8>,
    /// Number of bytes in each class.
    pub class_len: Vec<u16>,
    pub num_classes: usize,
    sets: Vec<Box<[u32]>>,
    index: HashMap<Box<[u32]>, u32>,
    table: Vec<u32>,
    accepting: Vec<bool>,
    pub max_states: usize,
    pub start: u32,
}

impl LazyDfa {
    /// A lazy DFA for `nfa` with at most `max_states` states (the dead state included).
    pub fn new(nfa: &Nfa, max_states: usize) -> Result<Self> {
        let live = nfa.live_states();
        let n = nfa.num_states();
        let eps: Vec<Vec<u32>> = (0..n)
            .map(|q| {
                nfa.eps[q]
                    .iter()
                    .copied()
                    .filter(|&t| live[t as usize])
                    .collect()
            })
            .collect();
        let raw: Vec<Vec<(u8, u8, u32)>> = (0..n)
            .map(|q| {
                nfa.edges[q]
                    .iter()
                    .copied()
                    .filter(|&(_, _, t)| live[t as usize])
                    .collect()
            })
            .collect();
        let mut cut = [false; 257];
        cut[0] = true;
        cut[256] = true;
        for ms in &raw {
            for &(lo, hi, _) in ms {
                cut[lo as usize] = true;
                cut[hi as usize + 1] = true;
            }
        }
        let mut byte_class = [0u16; 256];
        let mut class_lo = Vec::new();
        let mut class_len = Vec::new();
        let mut c: i32 = -1;
        for b in 0..256usize {
            if cut[b] {
                c += 1;
                class_lo.push(b as u8);
                class_len.push(0);
            }
            byte_class[b] = c as u16;
            class_len[c as usize] += 1;
        }
        let num_classes = class_lo.len();
        let moves = raw
            .iter()
            .map(|ms| {
                ms.iter()
                    .map(|&(lo, hi, t)| (byte_class[lo as usize], byte_class[hi as usize], t))
                    .collect()
            })
            .collect();
        let nfa_accept = (0..n).map(|q| live[q] && nfa.accept[q].is_some()).collect();
        let num_tags = nfa
            .accept
            .iter()
            .flatten()
            .map(|&t| t as usize + 1)
            .max()
            .unwrap_or(0);
        let tag_words = num_tags.div_ceil(64).max(1);
        let mut dfa = LazyDfa {
            eps,
            nfa_tag: nfa.accept.clone(),
            owner: nfa.owner.clone(),
            tag_words,
            tag_set_id: Vec::new(),
            tag_sets: vec![Box::new([])],
            tag_set_index: HashMap::from([(Box::<[u32]>::from([]), 0)]),
            possible: Vec::new(),
            unions: HashMap::new(),
            moves,
            nfa_accept,
            closures: vec![None; n],
            mark: vec![0; n],
            generation: 0,
            byte_class,
            class_lo,
            class_len,
            num_classes,
            sets: Vec::new(),
            index: HashMap::new(),
            table: Vec::new(),
            accepting: Vec::new(),
            max_states: max_states.max(2),
            start: DEAD,
        };
        dfa.intern(Box::new([]))?;
        for c in 0..num_classes {
            dfa.table[c] = DEAD;
        }
        let start = if live[nfa.start as usize] {
            dfa.closure_of(&[nfa.start])
        } else {
            Vec::new()
        };
        dfa.start = dfa.intern(start.into_boxed_slice())?;
        Ok(dfa)
    }

    pub fn num_states(&self) -> usize {
        self.sets.len()
    }

    pub fn is_accepting(&self, state: u32) -> bool {
        self.accepting[state as usize]
    }

    /// The NFA states of a DFA state (sorted).
    pub fn nfa_set(&self, state: u32) -> &[u32] {
        &self.sets[state as usize]
    }

    fn closure_one(&mut self, q: u32) -> Box<[u32]> {
        if let Some(c) = &self.closures[q as usize] {
            return c.clone();
        }
        let mut seen = vec![q];
        let mut stack = vec![q];
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.generation = 1;
        }
        let g = self.generation;
        self.mark[q as usize] = g;
        while let Some(p) = stack.pop() {
            for i in 0..self.eps[p as usize].len() {
                let t = self.eps[p as usize][i];
                if self.mark[t as usize] != g {
                    self.mark[t as usize] = g;
                    seen.push(t);
                    stack.push(t);
                }
            }
        }
        seen.sort_unstable();
        let boxed = seen.into_boxed_slice();
        self.closures[q as usize] = Some(boxed.clone());
        boxed
    }

    fn closure_of(&mut self, states: &[u32]) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for &q in states {
            let c = self.closure_one(q);
            out.extend_from_slice(&c);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn intern(&mut self, set: Box<[u32]>) -> Result<u32> {
        if let Some(&i) = self.index.get(&set) {
            return Ok(i);
        }
        let idx = self.sets.len();
        if idx >= self.max_states {
            return Err(CoreError::LimitExceeded {
                what: "DFA states",
                limit: self.max_states as u64,
                hint: "the pattern needs too many automaton states (e.g. a counted repeat after an unbounded one); simplify it or raise max_states",
            });
        }
        self.accepting
            .push(set.iter().any(|&q| self.nfa_accept[q as usize]));
        let mut tags: Vec<u32> = set
            .iter()
            .filter(|&&q| self.nfa_accept[q as usize])
            .filter_map(|&q| self.nfa_tag[q as usize])
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let tags = tags.into_boxed_slice();
        let tag_set = match self.tag_set_index.get(&tags) {
            Some(&id) => id,
            None => {
                let id = self.tag_sets.len() as u32;
                self.tag_set_index.insert(tags.clone(), id);
                self.tag_sets.push(tags);
                id
            }
        };
        self.tag_set_id.push(tag_set);
        let base = self.possible.len();
        self.possible
            .extend(std::iter::repeat(0u64).take(self.tag_words));
        for &q in set.iter() {
            if let Some(tag) = self.owner[q as usize] {
                self.possible[base + (tag as usize >> 6)] |= 1u64 << (tag & 63);
            }
        }
        self.table
            .extend(std::iter::repeat(UNEXPANDED).take(self.num_classes));
        self.index.insert(set.clone(), idx as u32);
        self.sets.push(set);
        Ok(idx as u32)
    }

    /// The state running `a` and `b` together (the union of their NFA sets), memoized.
    pub fn union(&mut self, a: u32, b: u32) -> Result<u32> {
        if a == b || b == DEAD {
            return Ok(a);
        }
        if a == DEAD {
            return Ok(b);
        }
        let key = if a < b { (a, b) } else { (b, a) };
        if let Some(&u) = self.unions.get(&key) {
            return Ok(u);
        }
        let mut set: Vec<u32> = self.sets[a as usize]
            .iter()
            .chain(self.sets[b as usize].iter())
            .copied()
            .collect();
        set.sort_unstable();
        set.dedup();
        let u = self.intern(set.into_boxed_slice())?;
        self.unions.insert(key, u);
        Ok(u)
    }

    /// Whether `state` can still complete a tag whose bit is set in `bits` (`tag_words` words).
    pub fn can_complete(&self, state: u32, bits: &[u64]) -> bool {
        let base = state as usize * self.tag_words;
        self.possible[base..base + self.tag_words]
            .iter()
            .zip(bits)
            .any(|(p, b)| p & b != 0)
    }

    /// Compute the transitions of `state` for every byte class.
    pub fn expand(&mut self, state: u32) -> Result<()> {
        let row = state as usize * self.num_classes;
        if self.table[row] != UNEXPANDED {
            return Ok(());
        }
        let mut targets: Vec<Vec<u32>> = vec![Vec::new(); self.num_classes];
        for &q in self.sets[state as usize].iter() {
            for &(clo, chi, t) in &self.moves[q as usize] {
                for c in clo..=chi {
                    targets[c as usize].push(t);
                }
            }
        }
        let mut seen: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut out = vec![DEAD; self.num_classes];
        for (c, mut tset) in targets.into_iter().enumerate() {
            if tset.is_empty() {
                continue;
            }
            tset.sort_unstable();
            tset.dedup();
            if let Some(&s) = seen.get(&tset) {
                out[c] = s;
                continue;
            }
            let closed = self.closure_of(&tset);
            let s = self.intern(closed.into_boxed_slice())?;
            seen.insert(tset, s);
            out[c] = s;
        }
        self.table[row..row + self.num_classes].copy_from_slice(&out);
        Ok(())
    }

    /// The state after one byte.
    #[inline]
    pub fn step(&mut self, state: u32, byte: u8) -> Result<u32> {
        let i = state as usize * self.num_classes + self.byte_class[byte as usize] as usize;
        let t = self.table[i];
        if t != UNEXPANDED {
            return Ok(t);
        }
        self.expand(state)?;
        Ok(self.table[i])
    }

    /// The state after one byte class (the row must be expanded).
    #[inline]
    pub fn step_class(&mut self, state: u32, class: usize) -> Result<u32> {
        let i = state as usize * self.num_classes + class;
        let t = self.table[i];
        if t != UNEXPANDED {
            return Ok(t);
        }
        self.expand(state)?;
        Ok(self.table[i])
    }

    /// The state after `data` (`DEAD` as soon as it dies).
    pub fn run(&mut self, mut state: u32, data: &[u8]) -> Result<u32> {
        for &b in data {
            state = self.step(state, b)?;
            if state == DEAD {
                return Ok(DEAD);
            }
        }
        Ok(state)
    }

    /// Build every reachable state; returns the count.
    pub fn explore(&mut self) -> Result<usize> {
        let mut i = 0;
        while i < self.sets.len() {
            self.expand(i as u32)?;
            i += 1;
        }
        Ok(self.sets.len())
    }

    /// Bytes every continuation from `state` must start with (stops at an accepting state).
    pub fn forced_bytes(&mut self, mut state: u32, limit: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while out.len() < limit && state != DEAD && !self.is_accepting(state) {
            self.expand(state)?;
            let row = state as usize * self.num_classes;
            let mut only: Option<usize> = None;
            let mut count = 0;
            for c in 0..self.num_classes {
                if self.table[row + c] != DEAD {
                    count += 1;
                    only = Some(c);
                }
            }
            match only {
                Some(c) if count == 1 && self.class_len[c] == 1 => {
                    out.push(self.class_lo[c]);
                    state = self.table[row + c];
                }
                _ => break,
            }
        }
        Ok(out)
    }
}
