//! Grammar masks without a second parser: hypothesis sets interned as states of a lazily filled table.
//!
//! A hypothesis is `(parse state, lexer state)`: the parser is outside (the Earley recognizer of the
//! Python front end, reached through [`Parser`]), the tagged lexer DFA is here. Stepping a set by one
//! byte follows every hypothesis inside its lexeme and, where a lexeme the parse state allows may end
//! (and the byte's follow class permits it), restarts the lexer after that lexeme in the parse state
//! the parser gives. Hypotheses with the same parse state merge into one lexer state (the union of
//! their NFA sets), which keeps a set as small as its parse states. Sets are interned, so the step is
//! a table over (set, byte class) filled on first use, and a mask is the same tight trie loop as for
//! a regex: the parser is asked only for a (parse state, lexeme) pair it has never seen.

use crate::dfa::{LazyDfa, DEAD};
use crate::error::{CoreError, Result};
use crate::vocab::Vocab;
use std::collections::HashMap;

/// Hypotheses per set before lexing is declared too ambiguous.
pub const MAX_HYPOTHESES: usize = 256;
const UNFILLED: u32 = u32::MAX;
/// Marks "no parse state" (the lexeme is not allowed, or leads nowhere).
pub const NO_PARSE: u32 = u32::MAX;

/// The parser side, answered by the front end; ids are the front end's interned parse states.
pub trait Parser {
    type Error: From<CoreError>;
    /// Bits (`tag_words` words) of the lexemes `parse` allows next.
    fn allowed(&mut self, parse: u32) -> std::result::Result<Vec<u64>, Self::Error>;
    /// The parse state after lexeme `tag` (`NO_PARSE` when none).
    fn advance(&mut self, parse: u32, tag: u32) -> std::result::Result<u32, Self::Error>;
}

/// The lexer DFA, the interned hypothesis sets and their transition table.
pub struct HypMachine {
    pub lex: LazyDfa,
    follow_class: [u16; 256],
    /// Per follow class, the tags that may not end before such a byte (`tag_words` words each).
    forbidden: Vec<Vec<u64>>,
    class_of: [u16; 256],
    reps: Vec<u8>,
    sets: Vec<Box<[(u32, u32)]>>,
    index: HashMap<Box<[(u32, u32)]>, u32>,
    table: Vec<u32>,
    max_sets: usize,
    allowed: HashMap<u32, Box<[u64]>>,
    advanced: HashMap<(u32, u32), u32>,
}

impl HypMachine {
    /// A machine over `lex`, with the follow class of each byte and the forbidden tags of each class.
    pub fn new(
        lex: LazyDfa,
        follow_class: &[u16],
        forbidden: Vec<Vec<u64>>,
        max_sets: usize,
    ) -> Result<Self> {
        if follow_class.len() != 256 || follow_class.iter().any(|&c| c as usize >= forbidden.len())
        {
            return Err(CoreError::BadIr {
                offset: 0,
                reason: "follow classes must map 256 bytes to known classes".into(),
            });
        }
        if forbidden.iter().any(|f| f.len() != lex.tag_words) {
            return Err(CoreError::BadIr {
                offset: 0,
                reason: "forbidden tag sets must have the lexer's tag width".into(),
            });
        }
        let mut follow = [0u16; 256];
        follow.copy_from_slice(follow_class);
        let mut joint: HashMap<(u16, u16), u16> = HashMap::new();
        let mut class_of = [0u16; 256];
        let mut reps = Vec::new();
        for b in 0..256usize {
            let key = (lex.byte_class[b], follow[b]);
            let c = *joint.entry(key).or_insert_with(|| {
                reps.push(b as u8);
                (reps.len() - 1) as u16
            });
            class_of[b] = c;
        }
        let mut m = HypMachine {
            lex,
            follow_class: follow,
            forbidden,
            class_of,
            reps,
            sets: Vec::new(),
            index: HashMap::new(),
            table: Vec::new(),
            max_sets,
            allowed: HashMap::new(),
            advanced: HashMap::new(),
        };
        m.intern_sorted(Vec::new())?;
        let n = m.reps.len();
        m.table[..n].iter_mut().for_each(|x| *x = DEAD);
        Ok(m)
    }

    pub fn num_sets(&self) -> usize {
        self.sets.len()
    }

    fn intern_sorted(&mut self, mut hyps: Vec<(u32, u32)>) -> Result<u32> {
        hyps.sort_unstable();
        let key = hyps.into_boxed_slice();
        if let Some(&id) = self.index.get(&key) {
            return Ok(id);
        }
        if self.sets.len() >= self.max_sets {
            return Err(CoreError::LimitExceeded {
                what: "grammar hypothesis sets",
                limit: self.max_sets as u64,
                hint: "the grammar reaches too many distinct parser/lexer situations",
            });
        }
        let id = self.sets.len() as u32;
        self.index.insert(key.clone(), id);
        self.sets.push(key);
        self.table
            .extend(std::iter::repeat(UNFILLED).take(self.reps.len()));
        Ok(id)
    }

    /// The set of the initial parse state with the lexer at its start.
    pub fn initial(&mut self, parse: u32) -> Result<u32> {
        let start = self.lex.start;
        self.intern_sorted(vec![(parse, start)])
    }

    fn allowed_bits<P: Parser>(
        &mut self,
        parser: &mut P,
        parse: u32,
    ) -> std::result::Result<Box<[u64]>, P::Error> {
        if let Some(b) = self.allowed.get(&parse) {
            return Ok(b.clone());
        }
        let bits = parser.allowed(parse)?;
        if bits.len() != self.lex.tag_words {
            return Err(CoreError::BadIr {
                offset: 0,
                reason: "allowed-lexeme bits have the wrong width".into(),
            }
            .into());
        }
        let bits = bits.into_boxed_slice();
        self.allowed.insert(parse, bits.clone());
        Ok(bits)
    }

    fn add<P: Parser>(
        &mut self,
        parser: &mut P,
        out: &mut Vec<(u32, u32)>,
        parse: u32,
        t: u32,
    ) -> std::result::Result<(), P::Error> {
        if t == DEAD {
            return Ok(());
        }
        let bits = self.allowed_bits(parser, parse)?;
        if !self.lex.can_complete(t, &bits) {
            return Ok(());
        }
        match out.iter_mut().find(|(p, _)| *p == parse) {
            Some(entry) => entry.1 = self.lex.union(entry.1, t)?,
            None => out.push((parse, t)),
        }
        Ok(())
    }

    /// The set after one byte, computed (not looked up).
    fn compute<P: Parser>(
        &mut self,
        parser: &mut P,
        set: u32,
        byte: u8,
    ) -> std::result::Result<u32, P::Error> {
        let hyps = self.sets[set as usize].clone();
        let start = self.lex.start;
        let follow = self.follow_class[byte as usize] as usize;
        let mut out: Vec<(u32, u32)> = Vec::new();
        for &(p, s) in hyps.iter() {
            let t = self.lex.step(s, byte)?;
            self.add(parser, &mut out, p, t)?;
            if s != start {
                let t0 = self.lex.step(start, byte)?;
                if t0 != DEAD {
                    let bits = self.allowed_bits(parser, p)?;
                    let tags = self.lex.tag_sets[self.lex.tag_set_id[s as usize] as usize].clone();
                    for &tag in tags.iter() {
                        let (w, bit) = (tag as usize >> 6, 1u64 << (tag & 63));
                        if self.forbidden[follow][w] & bit != 0 || bits[w] & bit == 0 {
                            continue;
                        }
                        let p2 = match self.advanced.get(&(p, tag)) {
                            Some(&p2) => p2,
                            None => {
                                let p2 = parser.advance(p, tag)?;
                                self.advanced.insert((p, tag), p2);
                                p2
                            }
                        };
                        if p2 != NO_PARSE {
                            self.add(parser, &mut out, p2, t0)?;
                        }
                    }
                }
            }
            if out.len() > MAX_HYPOTHESES {
                return Err(CoreError::LimitExceeded {
                    what: "lexing hypotheses",
                    limit: MAX_HYPOTHESES as u64,
                    hint: "the grammar's lexemes are too ambiguous",
                }
                .into());
            }
        }
        if out.is_empty() {
            return Ok(DEAD);
        }
        Ok(self.intern_sorted(out)?)
    }

    /// The set after one byte (a table lookup once computed).
    #[inline]
    pub fn step<P: Parser>(
        &mut self,
        parser: &mut P,
        set: u32,
        byte: u8,
    ) -> std::result::Result<u32, P::Error> {
        let i = set as usize * self.reps.len() + self.class_of[byte as usize] as usize;
        let t = self.table[i];
        if t != UNFILLED {
            return Ok(t);
        }
        let t = self.compute(
            parser,
            set,
            self.reps[self.class_of[byte as usize] as usize],
        )?;
        self.table[i] = t;
        Ok(t)
    }

    /// The set after `data` (dead as soon as it dies).
    pub fn run<P: Parser>(
        &mut self,
        parser: &mut P,
        mut set: u32,
        data: &[u8],
    ) -> std::result::Result<u32, P::Error> {
        for &b in data {
            if set == DEAD {
                break;
            }
            set = self.step(parser, set, b)?;
        }
        Ok(set)
    }

    /// The allowed-token words of `set` (no end-of-sequence bits): tokens after which some hypothesis lives.
    pub fn mask<P: Parser>(
        &mut self,
        parser: &mut P,
        vocab: &Vocab,
        set: u32,
    ) -> std::result::Result<Vec<u32>, P::Error> {
        let mut words = vec![0u32; vocab.num_words()];
        if set == DEAD || set as usize >= self.sets.len() {
            return Ok(words);
        }
        let nodes = &vocab.nodes;
        let mut stack = vec![DEAD; vocab.max_depth + 1];
        stack[0] = set;
        let mut i = 1usize;
        while i < nodes.len() {
            let node = nodes[i];
            let next = self.step(parser, stack[node.depth as usize - 1], node.byte)?;
            if next == DEAD {
                i = node.end as usize;
                continue;
            }
            for k in node.tok_lo..node.tok_hi {
                let tok = vocab.token_ids[k as usize];
                words[(tok >> 5) as usize] |= 1 << (tok & 31);
            }
            stack[node.depth as usize] = next;
            i += 1;
        }
        Ok(words)
    }
}
