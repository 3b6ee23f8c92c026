//! Masks against a brute-force oracle: every token's bytes run on their own through the DFA (no
//! trie, no skipping), on golden IR fixtures exported from the Python front end and on random IR.

use constrain_core::dfa::DEAD;
use constrain_core::wire::{self, Ir, Node};
use constrain_core::{CoreError, Regular, Vocab};

/// A small deterministic generator (xorshift), so the tests need no extra crate and always agree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ALPHABET: &[&str] = &[
    "a", "b", "c", "0", "1", "-", ".", " ", "é", "日", "😀", "\"", "\\",
];

/// Every string of up to 3 symbols of the alphabet, plus some random longer ones, plus raw bytes.
fn test_vocab(rng: &mut Rng) -> Vocab {
    let mut toks: Vec<Option<Vec<u8>>> = vec![None];
    let mut frontier: Vec<String> = vec![String::new()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for p in &frontier {
            for a in ALPHABET {
                let s = format!("{p}{a}");
                toks.push(Some(s.clone().into_bytes()));
                next.push(s);
            }
        }
        frontier = next;
    }
    for _ in 0..300 {
        let len = 4 + rng.below(8);
        let s: String = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
            .collect();
        toks.push(Some(s.into_bytes()));
    }
    for b in [0x80u8, 0xC3, 0xE6, 0xF0, 0xFF] {
        toks.push(Some(vec![b]));
    }
    toks.push(Some(b"ab".to_vec()));
    let n = toks.len() as u32;
    Vocab::new(toks, n + 7, vec![0, n + 3]).unwrap()
}

fn brute_force(reg: &mut Regular, vocab: &Vocab, state: u32) -> Vec<u32> {
    let mut words = vec![0u32; vocab.num_words()];
    if state == DEAD {
        return words;
    }
    for id in 0..vocab.size {
        if let Some(bytes) = vocab.token_bytes(id) {
            if reg.run(state, bytes).unwrap() != DEAD {
                words[(id >> 5) as usize] |= 1 << (id & 31);
            }
        }
    }
    if reg.is_accepting(state) {
        for &e in &vocab.eos {
            words[(e >> 5) as usize] |= 1 << (e & 31);
        }
    }
    words
}

/// Walk random trajectories, comparing the trie walk with the brute force at every step.
fn check(ir_bytes: &[u8], vocab: &Vocab, rng: &mut Rng) -> usize {
    let mut reg = Regular::compile(ir_bytes, 10_000, 100_000).unwrap();
    let mut compared = 0;
    for _ in 0..4 {
        let mut state = reg.start();
        for _ in 0..12 {
            let fast = reg.mask(vocab, state).unwrap();
            assert_eq!(fast, brute_force(&mut reg, vocab, state));
            compared += 1;
            let allowed: Vec<u32> = (0..vocab.size)
                .filter(|&i| {
                    fast[(i >> 5) as usize] >> (i & 31) & 1 == 1 && vocab.token_bytes(i).is_some()
                })
                .collect();
            if allowed.is_empty() {
                break;
            }
            let tok = allowed[rng.below(allowed.len() as u64) as usize];
            state = reg.run(state, vocab.token_bytes(tok).unwrap()).unwrap();
            assert_ne!(state, DEAD);
        }
    }
    compared
}

#[test]
fn golden_fixtures_match_brute_force() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let vocab = test_vocab(&mut rng);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("ir") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let ir = wire::decode(&data).unwrap();
        assert_eq!(
            wire::encode(&ir),
            data,
            "{path:?} re-encodes to the same bytes"
        );
        assert!(check(&data, &vocab, &mut rng) > 0, "{path:?}");
        files += 1;
    }
    assert!(files >= 5, "golden IR fixtures missing from {dir:?}");
}

fn random_node(rng: &mut Rng, nodes: &mut Vec<Node>, depth: u32) -> u32 {
    let kind = if depth > 3 {
        rng.below(3)
    } else {
        rng.below(7)
    };
    let node = match kind {
        0 => Node::Bytes(
            ALPHABET[rng.below(ALPHABET.len() as u64) as usize]
                .as_bytes()
                .to_vec(),
        ),
        1 => {
            let lo = [0x30, 0x61, 0xE0, 0x65E5, 0x1F600][rng.below(5) as usize];
            Node::Chars(vec![(lo, lo + rng.below(30) as u32)])
        }
        2 => Node::Empty,
        3 | 4 => {
            let k = 1 + rng.below(3);
            let items = (0..k).map(|_| random_node(rng, nodes, depth + 1)).collect();
            if kind == 3 {
                Node::Concat(items)
            } else {
                Node::Alt(items)
            }
        }
        5 => {
            let item = random_node(rng, nodes, depth + 1);
            let min = rng.below(3) as u32;
            let max = if rng.below(2) == 0 {
                None
            } else {
                Some(min + rng.below(3) as u32)
            };
            Node::Repeat { item, min, max }
        }
        _ => {
            let label = random_node(rng, nodes, depth + 1);
            Node::NodeGraph {
                num_states: 2,
                edges: vec![(0, Some(label), 1), (1, None, 0)],
                accept: vec![1],
            }
        }
    };
    nodes.push(node);
    (nodes.len() - 1) as u32
}

#[test]
fn random_ir_matches_brute_force() {
    let mut rng = Rng(12345);
    let vocab = test_vocab(&mut rng);
    let mut compared = 0;
    for _ in 0..60 {
        let mut nodes = Vec::new();
        let root = random_node(&mut rng, &mut nodes, 0);
        let ir = Ir {
            nodes,
            roots: vec![root],
        };
        compared += check(&wire::encode(&ir), &vocab, &mut rng);
    }
    assert!(compared > 300, "{compared}");
}

#[test]
fn malformed_ir_is_an_error_never_a_panic() {
    let mut rng = Rng(777);
    let mut nodes = Vec::new();
    let root = random_node(&mut rng, &mut nodes, 0);
    let good = wire::encode(&Ir {
        nodes,
        roots: vec![root],
    });
    for cut in 0..good.len() {
        assert!(
            matches!(wire::decode(&good[..cut]), Err(CoreError::BadIr { .. })),
            "cut at {cut}"
        );
    }
    for _ in 0..2_000 {
        let mut bad = good.clone();
        let i = rng.below(bad.len() as u64) as usize;
        bad[i] = rng.next() as u8;
        if let Ok(ir) = wire::decode(&bad) {
            let _ = Regular::compile(&wire::encode(&ir), 1_000, 10_000);
        }
    }
}

#[test]
fn limits_are_errors() {
    let a = Node::Alt(vec![0, 1]);
    let nodes = vec![
        Node::Bytes(b"a".to_vec()),
        Node::Bytes(b"b".to_vec()),
        a,
        Node::Repeat {
            item: 2,
            min: 0,
            max: None,
        },
    ];
    let mut nodes2 = nodes.clone();
    nodes2.push(Node::Repeat {
        item: 2,
        min: 12,
        max: Some(12),
    });
    nodes2.push(Node::Concat(vec![3, 0, 4]));
    let ir = wire::encode(&Ir {
        nodes: nodes2,
        roots: vec![5],
    });
    let mut reg = Regular::compile(&ir, 300, 100_000).unwrap();
    assert!(matches!(
        reg.dfa.explore(),
        Err(CoreError::LimitExceeded {
            what: "DFA states",
            limit: 300,
            ..
        })
    ));
    let empty_repeat = wire::encode(&Ir {
        nodes: vec![
            Node::Empty,
            Node::Repeat {
                item: 0,
                min: 4_000_000_000,
                max: None,
            },
        ],
        roots: vec![1],
    });
    assert!(matches!(
        Regular::compile(&empty_repeat, 300, 1_000),
        Err(CoreError::LimitExceeded {
            what: "NFA states",
            ..
        })
    ));
    let big = wire::encode(&Ir {
        nodes: vec![
            Node::Bytes(b"abc".to_vec()),
            Node::Repeat {
                item: 0,
                min: 1_000_000,
                max: Some(1_000_000),
            },
        ],
        roots: vec![1],
    });
    assert!(matches!(
        Regular::compile(&big, 300, 10_000),
        Err(CoreError::LimitExceeded {
            what: "NFA states",
            ..
        })
    ));
}
