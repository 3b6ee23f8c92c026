//! The vocabulary as a flat depth-first token trie: one node per distinct token prefix.
//!
//! Nodes are stored in depth-first order, so a node's subtree is the contiguous range
//! `[i, end)`; a walk skips a dead subtree by jumping to `end`. Tokens ending at a node are the
//! range `[tok_lo, tok_hi)` of `token_ids` (several ids may share the same bytes).

use crate::error::{CoreError, Result};

#[derive(Debug, Clone, Copy)]
pub struct TrieNode {
    pub byte: u8,
    pub depth: u32,
    pub end: u32,
    pub tok_lo: u32,
    pub tok_hi: u32,
}

/// Token id -> exact bytes for one tokenizer, with its trie, logits width and end-of-sequence ids.
#[derive(Debug, Clone)]
pub struct Vocab {
    /// Width of the model's logits (may exceed the number of tokens).
    pub size: u32,
    pub eos: Vec<u32>,
    pub nodes: Vec<TrieNode>,
    pub token_ids: Vec<u32>,
    pub max_depth: usize,
    token_bytes: Vec<Option<Box<[u8]>>>,
}

impl Vocab {
    /// Build from each id's bytes (`None` or empty: never allowed, e.g. special tokens).
    pub fn new(token_bytes: Vec<Option<Vec<u8>>>, size: u32, eos: Vec<u32>) -> Result<Self> {
        if (token_bytes.len() as u64) > size as u64 {
            return Err(CoreError::BadVocab(format!(
                "{} tokens but logits width {size}",
                token_bytes.len()
            )));
        }
        if let Some(&bad) = eos.iter().find(|&&e| e >= size) {
            return Err(CoreError::BadVocab(format!(
                "end-of-sequence id {bad} is not below the logits width {size}"
            )));
        }
        let token_bytes: Vec<Option<Box<[u8]>>> = token_bytes
            .into_iter()
            .map(|b| b.filter(|b| !b.is_empty()).map(Vec::into_boxed_slice))
            .collect();
        let mut ids: Vec<u32> = (0..token_bytes.len() as u32)
            .filter(|&i| token_bytes[i as usize].is_some())
            .collect();
        ids.sort_by(|&a, &b| {
            token_bytes[a as usize]
                .cmp(&token_bytes[b as usize])
                .then(a.cmp(&b))
        });
        let mut nodes = vec![TrieNode {
            byte: 0,
            depth: 0,
            end: 0,
            tok_lo: 0,
            tok_hi: 0,
        }];
        let mut token_ids: Vec<u32> = Vec::with_capacity(ids.len());
        let mut path: Vec<usize> = vec![0];
        let mut prev: &[u8] = &[];
        let mut max_depth = 0;
        for &id in &ids {
            let bytes: &[u8] = token_bytes[id as usize].as_deref().unwrap_or(&[]);
            let common = prev.iter().zip(bytes).take_while(|(a, b)| a == b).count();
            while path.len() > common + 1 {
                let done = path.pop().unwrap_or(0);
                nodes[done].end = nodes.len() as u32;
            }
            for (d, &byte) in bytes.iter().enumerate().skip(common) {
                nodes.push(TrieNode {
                    byte,
                    depth: d as u32 + 1,
                    end: 0,
                    tok_lo: 0,
                    tok_hi: 0,
                });
                path.push(nodes.len() - 1);
            }
            max_depth = max_depth.max(bytes.len());
            let last = *path.last().unwrap_or(&0);
            let node = &mut nodes[last];
            if node.tok_hi == node.tok_lo {
                node.tok_lo = token_ids.len() as u32;
                node.tok_hi = node.tok_lo;
            }
            token_ids.push(id);
            node.tok_hi += 1;
            prev = bytes;
        }
        let total = nodes.len() as u32;
        for &i in &path {
            nodes[i].end = total;
        }
        Ok(Vocab {
            size,
            eos,
            nodes,
            token_ids,
            max_depth,
            token_bytes,
        })
    }

    /// The bytes of a token (`None` for special tokens and ids without bytes).
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        self.token_bytes.get(id as usize).and_then(|b| b.as_deref())
    }

    /// Number of `u32` words of a mask over the logits width.
    pub fn num_words(&self) -> usize {
        (self.size as usize).div_ceil(32)
    }

    /// The child of `node` reached by `byte`, if any.
    pub fn child(&self, node: usize, byte: u8) -> Option<usize> {
        let end = self.nodes[node].end as usize;
        let mut c = node + 1;
        while c < end {
            let n = &self.nodes[c];
            if n.byte == byte {
                return Some(c);
            }
            c = n.end as usize;
        }
        None
    }

    /// Token ids of the longest-match tokenization of `data` (`None` if some byte has no token).
    /// Among ids with the same bytes the lowest is used.
    pub fn greedy_tokens(&self, data: &[u8]) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            let mut node = 0usize;
            let mut best: Option<(usize, u32)> = None;
            let mut j = i;
            while j < data.len() {
                match self.child(node, data[j]) {
                    Some(c) => {
                        node = c;
                        j += 1;
                        let n = &self.nodes[c];
                        if n.tok_hi > n.tok_lo {
                            best = Some((j, self.token_ids[n.tok_lo as usize]));
                        }
                    }
                    None => break,
                }
            }
            let (next, id) = best?;
            out.push(id);
            i = next;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trie_holds_every_token_once_in_depth_first_order() {
        let toks: Vec<Option<Vec<u8>>> = ["ab", "a", "abc", "b", "", "ab", "ba"]
            .iter()
            .map(|s| Some(s.as_bytes().to_vec()))
            .collect();
        let v = Vocab::new(toks, 10, vec![9]).unwrap();
        let mut seen = v.token_ids.clone();
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2, 3, 5, 6]);
        for (i, n) in v.nodes.iter().enumerate().skip(1) {
            assert!(n.end as usize > i && n.end as usize <= v.nodes.len());
        }
        assert_eq!(v.greedy_tokens(b"abab"), Some(vec![0, 0]));
        assert_eq!(v.greedy_tokens(b"abcba"), Some(vec![2, 6]));
        assert_eq!(v.greedy_tokens(b"x"), None);
    }
}
