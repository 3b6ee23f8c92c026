//! Operations on regular languages that the JSON Schema compiler needs: emptiness, and the product
//! of several automata (intersection, and difference through negated operands), returned as a
//! trimmed byte DFA.

use crate::dfa::{LazyDfa, DEAD};
use crate::error::{CoreError, Result};
use crate::nfa;
use crate::wire;
use std::collections::HashMap;

/// A byte DFA with start state 0: `(src, lo, hi, dst)` moves and accepting states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteDfa {
    pub num_states: u32,
    pub moves: Vec<(u32, u8, u8, u32)>,
    pub accept: Vec<u32>,
}

/// Whether the IR's language is empty (no accepting state reachable from the start).
pub fn is_empty(ir: &[u8], max_nfa_states: usize) -> Result<bool> {
    let ir = wire::decode(ir)?;
    let nfa = nfa::build(&ir, max_nfa_states)?;
    Ok(!nfa.live_states()[nfa.start as usize])
}

/// Strings accepted by every operand (rejected by it where `negate[i]`), or `None` for the empty language.
///
/// Operands are determinized lazily, only as far as the product reaches. Product states are numbered
/// in breadth-first order; from each state, bytes are read in ascending order and grouped by target.
pub fn product(
    irs: &[Vec<u8>],
    negate: &[bool],
    max_states: usize,
    max_nfa_states: usize,
) -> Result<Option<ByteDfa>> {
    let mut parts = Vec::with_capacity(irs.len());
    for ir in irs {
        let ir = wire::decode(ir)?;
        parts.push(LazyDfa::new(&nfa::build(&ir, max_nfa_states)?, max_states)?);
    }
    // Joint byte classes: bytes no operand tells apart, numbered in order of their lowest byte.
    let mut joint_of: HashMap<Vec<u16>, usize> = HashMap::new();
    let mut class_bytes: Vec<Vec<u8>> = Vec::new();
    let mut class_reps: Vec<Vec<usize>> = Vec::new();
    for b in 0..=255u8 {
        let sig: Vec<u16> = parts.iter().map(|d| d.byte_class[b as usize]).collect();
        match joint_of.get(&sig) {
            Some(&c) => class_bytes[c].push(b),
            None => {
                joint_of.insert(sig.clone(), class_bytes.len());
                class_bytes.push(vec![b]);
                class_reps.push(sig.iter().map(|&c| c as usize).collect());
            }
        }
    }
    let start: Vec<u32> = parts.iter().map(|d| d.start).collect();
    let mut index: HashMap<Vec<u32>, u32> = HashMap::from([(start.clone(), 0)]);
    let mut order: Vec<Vec<u32>> = vec![start];
    let mut moves: Vec<(u32, u8, u8, u32)> = Vec::new();
    let mut tgt: Vec<u32> = Vec::with_capacity(parts.len());
    let mut i = 0usize;
    while i < order.len() {
        let tup = order[i].clone();
        let mut groups: Vec<(Vec<u32>, Vec<u8>)> = Vec::new();
        'classes: for (c, reps) in class_reps.iter().enumerate() {
            tgt.clear();
            for (k, d) in parts.iter_mut().enumerate() {
                let t = d.step_class(tup[k], reps[k])?;
                if t == DEAD && !negate[k] {
                    continue 'classes;
                }
                tgt.push(t);
            }
            match groups.iter_mut().find(|(g, _)| *g == tgt) {
                Some((_, bytes)) => bytes.extend_from_slice(&class_bytes[c]),
                None => groups.push((tgt.clone(), class_bytes[c].clone())),
            }
        }
        for (tgt, mut bytes) in groups {
            bytes.sort_unstable();
            let j = match index.get(&tgt) {
                Some(&j) => j,
                None => {
                    if order.len() >= max_states {
                        return Err(CoreError::LimitExceeded {
                            what: "product automaton states",
                            limit: max_states as u64,
                            hint: "",
                        });
                    }
                    let j = order.len() as u32;
                    index.insert(tgt.clone(), j);
                    order.push(tgt);
                    j
                }
            };
            let mut lo = bytes[0];
            let mut prev = bytes[0];
            for &b in &bytes[1..] {
                if b as u16 != prev as u16 + 1 {
                    moves.push((i as u32, lo, prev, j));
                    lo = b;
                }
                prev = b;
            }
            moves.push((i as u32, lo, prev, j));
        }
        i += 1;
    }
    let accepting: Vec<bool> = order
        .iter()
        .map(|tup| {
            tup.iter()
                .zip(&parts)
                .zip(negate)
                .all(|((&q, d), &neg)| (q != DEAD && d.is_accepting(q)) != neg)
        })
        .collect();
    Ok(trim(order.len(), &moves, &accepting))
}

/// Drop states that cannot reach acceptance; renumber in order so the start stays 0.
fn trim(n: usize, moves: &[(u32, u8, u8, u32)], accepting: &[bool]) -> Option<ByteDfa> {
    let mut rev: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(a, _, _, b) in moves {
        rev[b as usize].push(a);
    }
    let mut live = accepting.to_vec();
    let mut stack: Vec<u32> = (0..n as u32).filter(|&q| accepting[q as usize]).collect();
    while let Some(q) = stack.pop() {
        for &p in &rev[q as usize] {
            if !live[p as usize] {
                live[p as usize] = true;
                stack.push(p);
            }
        }
    }
    if n == 0 || !live[0] {
        return None;
    }
    let mut new = vec![u32::MAX; n];
    let mut count = 0u32;
    for q in 0..n {
        if live[q] {
            new[q] = count;
            count += 1;
        }
    }
    let kept = moves
        .iter()
        .filter(|&&(a, _, _, b)| live[a as usize] && live[b as usize])
        .map(|&(a, lo, hi, b)| (new[a as usize], lo, hi, new[b as usize]))
        .collect();
    let accept = (0..n)
        .filter(|&q| accepting[q] && live[q])
        .map(|q| new[q])
        .collect();
    Some(ByteDfa {
        num_states: count,
        moves: kept,
        accept,
    })
}
