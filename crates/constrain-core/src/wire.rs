//! The versioned binary IR that crosses the Python boundary once per constraint.
//!
//! Layout (little-endian): magic `CNIR`, `u32` version, `u32` node count, the nodes, `u32` root count,
//! the root ids. Nodes form a DAG in topological order: a node refers only to earlier nodes, so
//! decoding is one checked pass and no cycle can be expressed. Node tags:
//! 0 Empty; 1 Bytes(len, bytes); 2 Chars(n, (lo, hi)*) over code points; 3 Concat(n, ids);
//! 4 Alt(n, ids); 5 Repeat(item, min, max; max = u32::MAX for unbounded);
//! 6 ByteDfa(states, n, (src, lo, hi, dst)*, k, accept*), start state 0;
//! 7 NodeGraph(states, n, (src, label or u32::MAX for an empty move, dst)*, k, accept*), start 0.

use crate::error::{CoreError, Result};

pub const MAGIC: &[u8; 4] = b"CNIR";
pub const VERSION: u32 = 1;
pub const UNBOUNDED: u32 = u32::MAX;
pub const NO_LABEL: u32 = u32::MAX;

/// One IR node; child ids index earlier nodes of [`Ir::nodes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Empty,
    Bytes(Vec<u8>),
    Chars(Vec<(u32, u32)>),
    Concat(Vec<u32>),
    Alt(Vec<u32>),
    Repeat {
        item: u32,
        min: u32,
        max: Option<u32>,
    },
    ByteDfa {
        num_states: u32,
        moves: Vec<(u32, u8, u8, u32)>,
        accept: Vec<u32>,
    },
    NodeGraph {
        num_states: u32,
        edges: Vec<(u32, Option<u32>, u32)>,
        accept: Vec<u32>,
    },
}

/// A decoded constraint: the node table and the root of each pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ir {
    pub nodes: Vec<Node>,
    pub roots: Vec<u32>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bad(&self, reason: impl Into<String>) -> CoreError {
        CoreError::BadIr {
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return Err(self.bad(format!(
                "needs {n} more bytes, {} left",
                self.data.len() - self.pos
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count of items of at least `item_bytes` bytes each, checked against what is left.
    fn count(&mut self, item_bytes: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(item_bytes) > self.data.len() - self.pos {
            return Err(self.bad(format!("count {n} exceeds the remaining data")));
        }
        Ok(n)
    }

    fn child(&mut self, below: usize) -> Result<u32> {
        let id = self.u32()?;
        if id as usize >= below {
            return Err(self.bad(format!(
                "node {below} refers to node {id}, which is not earlier"
            )));
        }
        Ok(id)
    }

    /// A counted list of automaton states (accepting states).
    fn states(&mut self, num_states: u32) -> Result<Vec<u32>> {
        let k = self.count(4)?;
        let mut out = Vec::with_capacity(k);
        for _ in 0..k {
            out.push(self.state(num_states)?);
        }
        Ok(out)
    }

    fn state(&mut self, num_states: u32) -> Result<u32> {
        let q = self.u32()?;
        if q >= num_states {
            return Err(self.bad(format!(
                "automaton state {q} out of range (0..{num_states})"
            )));
        }
        Ok(q)
    }
}

/// Decode and check an IR byte string.
pub fn decode(data: &[u8]) -> Result<Ir> {
    let mut r = Reader { data, pos: 0 };
    if r.take(4)? != MAGIC {
        return Err(CoreError::BadIr {
            offset: 0,
            reason: "missing CNIR magic".into(),
        });
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(r.bad(format!(
            "version {version}, this core reads version {VERSION}"
        )));
    }
    let n = r.count(1)?;
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        let tag = r.u8()?;
        let node = match tag {
            0 => Node::Empty,
            1 => {
                let len = r.count(1)?;
                Node::Bytes(r.take(len)?.to_vec())
            }
            2 => {
                let k = r.count(8)?;
                let mut ranges = Vec::with_capacity(k);
                for _ in 0..k {
                    let (lo, hi) = (r.u32()?, r.u32()?);
                    if lo > hi || hi > 0x10FFFF {
                        return Err(r.bad(format!("bad code point range {lo:#x}..{hi:#x}")));
                    }
                    ranges.push((lo, hi));
                }
                Node::Chars(ranges)
            }
            3 | 4 => {
                let k = r.count(4)?;
                let mut items = Vec::with_capacity(k);
                for _ in 0..k {
                    items.push(r.child(i)?);
                }
                if tag == 3 {
                    Node::Concat(items)
                } else {
                    Node::Alt(items)
                }
            }
            5 => {
                let item = r.child(i)?;
                let min = r.u32()?;
                let max = r.u32()?;
                let max = if max == UNBOUNDED { None } else { Some(max) };
                if max.is_some_and(|m| m < min) {
                    return Err(r.bad(format!("repeat max below min ({min})")));
                }
                Node::Repeat { item, min, max }
            }
            6 => {
                let num_states = r.u32()?;
                if num_states == 0 {
                    return Err(r.bad("byte automaton without states"));
                }
                let k = r.count(10)?;
                let mut moves = Vec::with_capacity(k);
                for _ in 0..k {
                    let src = r.state(num_states)?;
                    let (lo, hi) = (r.u8()?, r.u8()?);
                    let dst = r.state(num_states)?;
                    if lo > hi {
                        return Err(r.bad(format!("bad byte range {lo}..{hi}")));
                    }
                    moves.push((src, lo, hi, dst));
                }
                let accept = r.states(num_states)?;
                Node::ByteDfa {
                    num_states,
                    moves,
                    accept,
                }
            }
            7 => {
                let num_states = r.u32()?;
                if num_states == 0 {
                    return Err(r.bad("node graph without states"));
                }
                let k = r.count(12)?;
                let mut edges = Vec::with_capacity(k);
                for _ in 0..k {
                    let src = r.state(num_states)?;
                    let label = r.u32()?;
                    let label = if label == NO_LABEL {
                        None
                    } else if (label as usize) < i {
                        Some(label)
                    } else {
                        return Err(r.bad(format!(
                            "node {i} refers to node {label}, which is not earlier"
                        )));
                    };
                    let dst = r.state(num_states)?;
                    edges.push((src, label, dst));
                }
                let accept = r.states(num_states)?;
                Node::NodeGraph {
                    num_states,
                    edges,
                    accept,
                }
            }
            other => return Err(r.bad(format!("unknown node tag {other}"))),
        };
        nodes.push(node);
    }
    let k = r.count(4)?;
    let mut roots = Vec::with_capacity(k);
    for _ in 0..k {
        roots.push(r.child(n)?);
    }
    if r.pos != data.len() {
        return Err(r.bad(format!("{} trailing bytes", data.len() - r.pos)));
    }
    Ok(Ir { nodes, roots })
}

/// Encode an IR (used by tests and fuzzing; Python has its own encoder).
pub fn encode(ir: &Ir) -> Vec<u8> {
    let mut out = Vec::new();
    let put = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    out.extend_from_slice(MAGIC);
    put(&mut out, VERSION);
    put(&mut out, ir.nodes.len() as u32);
    for node in &ir.nodes {
        match node {
            Node::Empty => out.push(0),
            Node::Bytes(b) => {
                out.push(1);
                put(&mut out, b.len() as u32);
                out.extend_from_slice(b);
            }
            Node::Chars(ranges) => {
                out.push(2);
                put(&mut out, ranges.len() as u32);
                for &(lo, hi) in ranges {
                    put(&mut out, lo);
                    put(&mut out, hi);
                }
            }
            Node::Concat(items) | Node::Alt(items) => {
                out.push(if matches!(node, Node::Concat(_)) {
                    3
                } else {
                    4
                });
                put(&mut out, items.len() as u32);
                for &i in items {
                    put(&mut out, i);
                }
            }
            Node::Repeat { item, min, max } => {
                out.push(5);
                put(&mut out, *item);
                put(&mut out, *min);
                put(&mut out, max.unwrap_or(UNBOUNDED));
            }
            Node::ByteDfa {
                num_states,
                moves,
                accept,
            } => {
                out.push(6);
                put(&mut out, *num_states);
                put(&mut out, moves.len() as u32);
                for &(a, lo, hi, b) in moves {
                    put(&mut out, a);
                    out.push(lo);
                    out.push(hi);
                    put(&mut out, b);
                }
                put(&mut out, accept.len() as u32);
                for &q in accept {
                    put(&mut out, q);
                }
            }
            Node::NodeGraph {
                num_states,
                edges,
                accept,
            } => {
                out.push(7);
                put(&mut out, *num_states);
                put(&mut out, edges.len() as u32);
                for &(a, label, b) in edges {
                    put(&mut out, a);
                    put(&mut out, label.unwrap_or(NO_LABEL));
                    put(&mut out, b);
                }
                put(&mut out, accept.len() as u32);
                for &q in accept {
                    put(&mut out, q);
                }
            }
        }
    }
    put(&mut out, ir.roots.len() as u32);
    for &r in &ir.roots {
        put(&mut out, r);
    }
    out
}
