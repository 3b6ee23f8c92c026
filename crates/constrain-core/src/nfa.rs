//! Thompson NFA over bytes, built from the IR; several patterns may share one NFA, each ending in
//! states tagged with its index.

use crate::error::{CoreError, Result};
use crate::utf8::{class_automaton, ByteAutomaton};
use crate::wire::{Ir, Node};
use std::collections::HashMap;
use std::rc::Rc;

pub const DEFAULT_MAX_NFA_STATES: usize = 500_000;
/// Deepest IR nesting the builder follows (it recurses once per level).
pub const MAX_IR_DEPTH: usize = 2_000;

/// States are indices; `edges[q]` holds `(lo, hi, target)` byte-range moves, `eps[q]` empty moves.
#[derive(Debug, Clone, Default)]
pub struct Nfa {
    pub eps: Vec<Vec<u32>>,
    pub edges: Vec<Vec<(u8, u8, u32)>>,
    pub start: u32,
    /// The pattern index a state accepts for, if any.
    pub accept: Vec<Option<u32>>,
    /// The pattern whose fragment holds each state (`None` for the shared start).
    pub owner: Vec<Option<u32>>,
    max_states: usize,
    current: Option<u32>,
}

impl Nfa {
    fn new_state(&mut self) -> Result<u32> {
        if self.eps.len() >= self.max_states {
            return Err(CoreError::LimitExceeded {
                what: "NFA states",
                limit: self.max_states as u64,
                hint: "the pattern is too large (large counted repetitions multiply its size)",
            });
        }
        self.eps.push(Vec::new());
        self.edges.push(Vec::new());
        self.accept.push(None);
        self.owner.push(self.current);
        Ok((self.eps.len() - 1) as u32)
    }

    pub fn num_states(&self) -> usize {
        self.eps.len()
    }

    /// States from which an accepting state can be reached.
    pub fn live_states(&self) -> Vec<bool> {
        let n = self.eps.len();
        let mut rev: Vec<Vec<u32>> = vec![Vec::new(); n];
        for q in 0..n {
            for &t in &self.eps[q] {
                rev[t as usize].push(q as u32);
            }
            for &(_, _, t) in &self.edges[q] {
                rev[t as usize].push(q as u32);
            }
        }
        let mut live = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        for q in 0..n {
            if self.accept[q].is_some() {
                live[q] = true;
                stack.push(q as u32);
            }
        }
        while let Some(q) = stack.pop() {
            for &p in &rev[q as usize] {
                if !live[p as usize] {
                    live[p as usize] = true;
                    stack.push(p);
                }
            }
        }
        live
    }
}

struct Builder<'a> {
    ir: &'a Ir,
    nfa: Nfa,
    classes: HashMap<u32, Rc<ByteAutomaton>>,
    /// Fragment calls left: repeats of empty items create no states, so states alone bound nothing.
    fuel: u64,
}

/// One NFA recognising every root pattern of `ir`; pattern `i` ends in a state tagged `i`.
pub fn build(ir: &Ir, max_states: usize) -> Result<Nfa> {
    let mut b = Builder {
        ir,
        nfa: Nfa {
            max_states,
            ..Nfa::default()
        },
        classes: HashMap::new(),
        fuel: 4 * max_states as u64 + 1024,
    };
    let start = b.nfa.new_state()?;
    b.nfa.start = start;
    for (tag, &root) in ir.roots.iter().enumerate() {
        b.nfa.current = Some(tag as u32);
        let s = b.nfa.new_state()?;
        b.nfa.eps[start as usize].push(s);
        let e = b.fragment(root, s, 0)?;
        b.nfa.accept[e as usize] = Some(tag as u32);
    }
    Ok(b.nfa)
}

impl Builder<'_> {
    fn eps(&mut self, a: u32, b: u32) {
        self.nfa.eps[a as usize].push(b);
    }

    /// An end state and `n` fresh states for an embedded automaton whose state 0 is entered from `s`.
    fn automaton_states(&mut self, s: u32, n: u32) -> Result<(u32, Vec<u32>)> {
        let e = self.nfa.new_state()?;
        let mut local = Vec::with_capacity(n as usize);
        for _ in 0..n {
            local.push(self.nfa.new_state()?);
        }
        self.eps(s, local[0]);
        Ok((e, local))
    }

    /// Add states for node `id` starting at `s`; return the state reached at its end.
    fn fragment(&mut self, id: u32, mut s: u32, depth: usize) -> Result<u32> {
        if depth > MAX_IR_DEPTH {
            return Err(CoreError::LimitExceeded {
                what: "IR depth",
                limit: MAX_IR_DEPTH as u64,
                hint: "the pattern nests too deeply",
            });
        }
        if self.fuel == 0 {
            return Err(CoreError::LimitExceeded {
                what: "NFA states",
                limit: self.nfa.max_states as u64,
                hint: "the pattern is too large (large counted repetitions multiply its size)",
            });
        }
        self.fuel -= 1;
        let ir = self.ir;
        match &ir.nodes[id as usize] {
            Node::Empty => Ok(s),
            Node::Bytes(data) => {
                for &byte in data {
                    let t = self.nfa.new_state()?;
                    self.nfa.edges[s as usize].push((byte, byte, t));
                    s = t;
                }
                Ok(s)
            }
            Node::Chars(ranges) => {
                let auto = match self.classes.get(&id) {
                    Some(a) => a.clone(),
                    None => {
                        let a = Rc::new(class_automaton(ranges));
                        self.classes.insert(id, a.clone());
                        a
                    }
                };
                let e = self.nfa.new_state()?;
                let mut local = vec![s, e];
                for _ in 2..auto.num_states {
                    local.push(self.nfa.new_state()?);
                }
                for &(a, lo, hi, b) in &auto.moves {
                    self.nfa.edges[local[a as usize] as usize].push((lo, hi, local[b as usize]));
                }
                Ok(e)
            }
            Node::Concat(items) => {
                for &item in items {
                    s = self.fragment(item, s, depth + 1)?;
                }
                Ok(s)
            }
            Node::Alt(items) => {
                let e = self.nfa.new_state()?;
                for &item in items {
                    let b = self.nfa.new_state()?;
                    self.eps(s, b);
                    let end = self.fragment(item, b, depth + 1)?;
                    self.eps(end, e);
                }
                Ok(e)
            }
            Node::Repeat { item, min, max } => {
                for _ in 0..*min {
                    s = self.fragment(*item, s, depth + 1)?;
                }
                match max {
                    None => {
                        let lp = self.nfa.new_state()?;
                        self.eps(s, lp);
                        let body_end = self.fragment(*item, lp, depth + 1)?;
                        self.eps(body_end, lp);
                        let e = self.nfa.new_state()?;
                        self.eps(lp, e);
                        Ok(e)
                    }
                    Some(max) => {
                        let e = self.nfa.new_state()?;
                        for _ in *min..*max {
                            self.eps(s, e);
                            s = self.fragment(*item, s, depth + 1)?;
                        }
                        self.eps(s, e);
                        Ok(e)
                    }
                }
            }
            Node::ByteDfa {
                num_states,
                moves,
                accept,
            } => {
                let (e, local) = self.automaton_states(s, *num_states)?;
                for &(a, lo, hi, b) in moves {
                    self.nfa.edges[local[a as usize] as usize].push((lo, hi, local[b as usize]));
                }
                for &q in accept {
                    self.eps(local[q as usize], e);
                }
                Ok(e)
            }
            Node::NodeGraph {
                num_states,
                edges,
                accept,
            } => {
                let (e, local) = self.automaton_states(s, *num_states)?;
                for &(a, label, b) in edges {
                    match label {
                        None => self.eps(local[a as usize], local[b as usize]),
                        Some(label) => {
                            let mid = self.nfa.new_state()?;
                            self.eps(local[a as usize], mid);
                            let end = self.fragment(label, mid, depth + 1)?;
                            self.eps(end, local[b as usize]);
                        }
                    }
                }
                for &q in accept {
                    self.eps(local[q as usize], e);
                }
                Ok(e)
            }
        }
    }
}
