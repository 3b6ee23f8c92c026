//! THE mask loop: one pass over the depth-first trie with a stack of DFA states.

use crate::dfa::{LazyDfa, DEAD};
use crate::error::Result;
use crate::vocab::Vocab;

/// Call `visit(token, state_after)` for every token whose bytes, read from `state`, stay alive.
///
/// Shared prefixes are stepped once; a prefix that dies skips its whole subtree.
pub fn walk_tokens(
    dfa: &mut LazyDfa,
    vocab: &Vocab,
    state: u32,
    mut visit: impl FnMut(u32, u32),
) -> Result<()> {
    if state == DEAD {
        return Ok(());
    }
    let nodes = &vocab.nodes;
    let mut stack = vec![DEAD; vocab.max_depth + 1];
    stack[0] = state;
    let mut i = 1usize;
    let n = nodes.len();
    while i < n {
        let node = nodes[i];
        let parent = stack[node.depth as usize - 1];
        let next = dfa.step(parent, node.byte)?;
        if next == DEAD {
            i = node.end as usize;
            continue;
        }
        for k in node.tok_lo..node.tok_hi {
            visit(vocab.token_ids[k as usize], next);
        }
        stack[node.depth as usize] = next;
        i += 1;
    }
    Ok(())
}

/// The allowed-token bitmask of `state` (`u32` words, bit `i % 32` of word `i / 32`), EOS set when accepting.
pub fn mask(dfa: &mut LazyDfa, vocab: &Vocab, state: u32) -> Result<Vec<u32>> {
    let mut words = vec![0u32; vocab.num_words()];
    walk_tokens(dfa, vocab, state, |tok, _| {
        words[(tok >> 5) as usize] |= 1 << (tok & 31)
    })?;
    if state != DEAD && dfa.is_accepting(state) {
        for &e in &vocab.eos {
            words[(e >> 5) as usize] |= 1 << (e & 31);
        }
    }
    Ok(words)
}
