//! Code-point sets as acyclic byte automata over their UTF-8 encodings.

use regex_syntax::utf8::Utf8Sequences;
use std::collections::HashMap;

/// A small acyclic automaton: local state 0 is the start, 1 the end; moves are `(src, lo, hi, dst)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteAutomaton {
    pub num_states: u32,
    pub moves: Vec<(u32, u8, u8, u32)>,
}

#[derive(Default)]
struct TrieNode {
    /// `(lo, hi, child)`; `None` marks the last byte of a sequence.
    children: Vec<(u8, u8, Option<usize>)>,
}

/// The byte automaton of the UTF-8 encodings of `ranges` (code points; surrogates have no encoding).
///
/// Sequences share prefixes through a trie and equal suffixes through interning, so a large
/// Unicode class costs a few hundred states rather than thousands.
pub fn class_automaton(ranges: &[(u32, u32)]) -> ByteAutomaton {
    let mut trie: Vec<TrieNode> = vec![TrieNode::default()];
    for &(lo, hi) in ranges {
        for (a, b) in split_surrogates(lo, hi) {
            let (Some(a), Some(b)) = (char::from_u32(a), char::from_u32(b)) else {
                continue;
            };
            for seq in Utf8Sequences::new(a, b) {
                let parts = seq.as_slice();
                let mut node = 0usize;
                for (i, r) in parts.iter().enumerate() {
                    let last = i + 1 == parts.len();
                    if last {
                        if !trie[node]
                            .children
                            .iter()
                            .any(|&(l, h, c)| l == r.start && h == r.end && c.is_none())
                        {
                            trie[node].children.push((r.start, r.end, None));
                        }
                    } else {
                        let found = trie[node]
                            .children
                            .iter()
                            .find(|&&(l, h, c)| l == r.start && h == r.end && c.is_some())
                            .and_then(|&(_, _, c)| c);
                        node = match found {
                            Some(c) => c,
                            None => {
                                trie.push(TrieNode::default());
                                let c = trie.len() - 1;
                                trie[node].children.push((r.start, r.end, Some(c)));
                                c
                            }
                        };
                    }
                }
            }
        }
    }
    let mut ids: HashMap<Vec<(u8, u8, u32)>, u32> = HashMap::new();
    let mut moves = Vec::new();
    let mut next_id = 2u32;
    // Children are created after their parents, so a reverse pass interns every child first.
    let mut interned: Vec<u32> = vec![0; trie.len()];
    for idx in (0..trie.len()).rev() {
        let mut sig: Vec<(u8, u8, u32)> = trie[idx]
            .children
            .iter()
            .map(|&(lo, hi, c)| (lo, hi, c.map_or(1, |c| interned[c])))
            .collect();
        sig.sort_unstable();
        if idx == 0 {
            moves.extend(sig.iter().map(|&(lo, hi, dst)| (0, lo, hi, dst)));
        } else if let Some(&id) = ids.get(&sig) {
            interned[idx] = id;
        } else {
            let id = next_id;
            next_id += 1;
            moves.extend(sig.iter().map(|&(lo, hi, dst)| (id, lo, hi, dst)));
            ids.insert(sig, id);
            interned[idx] = id;
        }
    }
    ByteAutomaton {
        num_states: next_id,
        moves,
    }
}

fn split_surrogates(lo: u32, hi: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(2);
    if lo < 0xD800 {
        out.push((lo, hi.min(0xD7FF)));
    }
    if hi > 0xDFFF {
        out.push((lo.max(0xE000), hi));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(a: &ByteAutomaton, data: &[u8]) -> bool {
        let mut q = 0u32;
        for &b in data {
            match a
                .moves
                .iter()
                .find(|&&(s, lo, hi, _)| s == q && lo <= b && b <= hi)
            {
                Some(&(_, _, _, d)) => q = d,
                None => return false,
            }
        }
        q == 1
    }

    #[test]
    fn every_code_point_of_a_class_and_nothing_else() {
        let ranges = [
            (0x41, 0x5A),
            (0xE9, 0xE9),
            (0x4E00, 0x4E10),
            (0x1F600, 0x1F601),
            (0xD000, 0xE100),
        ];
        let a = class_automaton(&ranges);
        for cp in 0..0x20000u32 {
            let Some(ch) = char::from_u32(cp) else {
                continue;
            };
            let mut buf = [0u8; 4];
            let inside = ranges.iter().any(|&(lo, hi)| lo <= cp && cp <= hi);
            assert_eq!(
                accepts(&a, ch.encode_utf8(&mut buf).as_bytes()),
                inside,
                "{cp:#x}"
            );
        }
    }
}
