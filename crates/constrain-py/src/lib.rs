//! `constrain._native`: the Python face of constrain-core. Conversion, GIL release and error
//! mapping only; every algorithm lives in the core crate.
#![forbid(unsafe_code)]

use constrain_core::budget::Budget;
use constrain_core::{CoreError, Regular, Vocab};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

/// Version of the IR wire format this module reads.
const IR_VERSION: u32 = constrain_core::wire::VERSION;

fn to_py(py: Python<'_>, err: CoreError) -> PyErr {
    match err {
        CoreError::LimitExceeded { what, limit, hint } => match py
            .import("constrain.errors")
            .and_then(|m| m.getattr("LimitExceeded"))
            .and_then(|cls| cls.call1((what, limit, hint)))
        {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        },
        other => PyValueError::new_err(other.to_string()),
    }
}

fn internal(py: Python<'_>, what: &str) -> PyErr {
    match py.import("constrain.errors").and_then(|m| m.getattr("InternalError")).and_then(|cls| cls.call1((what,))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => PyRuntimeError::new_err(what.to_string()),
    }
}

/// Why a native call failed: the core said no, or an earlier panic poisoned this constraint.
enum Failure {
    Core(CoreError),
    Poisoned,
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Core(e)
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, Failure> {
    m.lock().map_err(|_| Failure::Poisoned)
}

/// Run `f` with the GIL released (locks are taken inside, so no thread waits for a lock while
/// holding the GIL); a panic becomes `InternalError` instead of unwinding into Python.
fn guarded<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Failure> + Send) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(Failure::Core(e))) => Err(to_py(py, e)),
        Ok(Err(Failure::Poisoned)) => {
            Err(internal(py, "the native engine of this constraint failed earlier and is no longer usable"))
        }
        Err(_) => Err(internal(py, "internal error in the native engine (a bug; please report it)")),
    }
}

fn check_state(r: &Regular, state: u32) -> Result<(), Failure> {
    if (state as usize) < r.dfa.num_states() {
        Ok(())
    } else {
        Err(Failure::Core(CoreError::BadState(state)))
    }
}

fn words_to_bytes<'py>(py: Python<'py>, words: &[u32]) -> Bound<'py, PyBytes> {
    let mut out = Vec::with_capacity(words.len() * 4);
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    PyBytes::new(py, &out)
}

/// A vocabulary: every id's bytes as one buffer plus lengths (-1: no bytes), the logits width, EOS ids.
#[pyclass(module = "constrain._native", frozen)]
struct NativeVocab {
    inner: Arc<Vocab>,
}

#[pymethods]
impl NativeVocab {
    #[new]
    fn new(py: Python<'_>, data: &[u8], lengths: Vec<i64>, size: u32, eos: Vec<u32>) -> PyResult<Self> {
        let mut tokens = Vec::with_capacity(lengths.len());
        let mut pos = 0usize;
        for &n in &lengths {
            if n < 0 {
                tokens.push(None);
                continue;
            }
            let end = pos + n as usize;
            if end > data.len() {
                return Err(PyValueError::new_err("token lengths exceed the byte buffer"));
            }
            tokens.push(Some(data[pos..end].to_vec()));
            pos = end;
        }
        let vocab = guarded(py, move || Ok(Vocab::new(tokens, size, eos)?))?;
        Ok(NativeVocab { inner: Arc::new(vocab) })
    }

    /// Number of trie nodes (distinct token prefixes).
    fn num_nodes(&self) -> usize {
        self.inner.nodes.len()
    }
}

/// A regular constraint compiled from IR bytes: a lazy DFA shared by every matcher.
#[pyclass(module = "constrain._native", frozen)]
struct NativeRegular {
    inner: Arc<Mutex<Regular>>,
}

#[pymethods]
impl NativeRegular {
    #[new]
    fn new(py: Python<'_>, ir: Vec<u8>, max_states: usize, max_nfa_states: usize) -> PyResult<Self> {
        let regular = guarded(py, move || Ok(Regular::compile(&ir, max_states, max_nfa_states)?))?;
        Ok(NativeRegular { inner: Arc::new(Mutex::new(regular)) })
    }

    #[getter]
    fn start(&self, py: Python<'_>) -> PyResult<u32> {
        guarded(py, || Ok(lock(&self.inner)?.start()))
    }

    #[getter]
    fn num_states(&self, py: Python<'_>) -> PyResult<usize> {
        guarded(py, || Ok(lock(&self.inner)?.dfa.num_states()))
    }

    /// The state after `data` from `state` (0, the dead state, once it dies).
    fn run(&self, py: Python<'_>, state: u32, data: &[u8]) -> PyResult<u32> {
        guarded(py, || {
            let mut r = lock(&self.inner)?;
            check_state(&r, state)?;
            Ok(r.run(state, data)?)
        })
    }

    fn is_accepting(&self, py: Python<'_>, state: u32) -> PyResult<bool> {
        guarded(py, || {
            let r = lock(&self.inner)?;
            check_state(&r, state)?;
            Ok(r.is_accepting(state))
        })
    }

    fn forced_bytes<'py>(&self, py: Python<'py>, state: u32, limit: usize) -> PyResult<Bound<'py, PyBytes>> {
        let out = guarded(py, || {
            let mut r = lock(&self.inner)?;
            check_state(&r, state)?;
            Ok(r.forced_bytes(state, limit)?)
        })?;
        Ok(PyBytes::new(py, &out))
    }

    /// Build every reachable state; returns the count.
    fn explore(&self, py: Python<'_>) -> PyResult<usize> {
        guarded(py, || Ok(lock(&self.inner)?.dfa.explore()?))
    }
}

/// Masks of one regular constraint over one vocabulary, plus its budget tables.
#[pyclass(module = "constrain._native", frozen)]
struct NativeMasks {
    regular: Arc<Mutex<Regular>>,
    vocab: Arc<Vocab>,
    budget: Mutex<Budget>,
}

#[pymethods]
impl NativeMasks {
    #[new]
    fn new(regular: &NativeRegular, vocab: &NativeVocab) -> Self {
        NativeMasks { regular: regular.inner.clone(), vocab: vocab.inner.clone(), budget: Mutex::new(Budget::default()) }
    }

    /// The allowed-token bitmask of `state` as little-endian int32 words (EOS set when accepting).
    fn mask<'py>(&self, py: Python<'py>, state: u32) -> PyResult<Bound<'py, PyBytes>> {
        let words = guarded(py, || {
            let mut r = lock(&self.regular)?;
            check_state(&r, state)?;
            Ok(r.mask(&self.vocab, state)?)
        })?;
        Ok(words_to_bytes(py, &words))
    }

    /// The mask of tokens after which the output can still finish within `remaining - 1` tokens.
    fn budget_mask<'py>(&self, py: Python<'py>, state: u32, remaining: i64) -> PyResult<Bound<'py, PyBytes>> {
        let words = guarded(py, || {
            let mut r = lock(&self.regular)?;
            check_state(&r, state)?;
            let mut b = lock(&self.budget)?;
            Ok(b.mask(&mut r.dfa, &self.vocab, state, remaining)?)
        })?;
        Ok(words_to_bytes(py, &words))
    }

    /// Tokens that always suffice to take `state` to acceptance (2**40 when none is known).
    fn distance(&self, py: Python<'_>, state: u32) -> PyResult<u64> {
        guarded(py, || {
            let mut r = lock(&self.regular)?;
            check_state(&r, state)?;
            let mut b = lock(&self.budget)?;
            Ok(b.distance(&mut r.dfa, &self.vocab, state)?)
        })
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("IR_VERSION", IR_VERSION)?;
    m.add_class::<NativeVocab>()?;
    m.add_class::<NativeRegular>()?;
    m.add_class::<NativeMasks>()?;
    Ok(())
}
