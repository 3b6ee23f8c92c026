//! `constrain._native`: the Python face of constrain-core. Conversion, GIL release and error
//! mapping only; every algorithm lives in the core crate.
#![forbid(unsafe_code)]

use constrain_core::budget::Budget;
use constrain_core::hyp::{HypMachine, Parser, NO_PARSE};
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
    match py
        .import("constrain.errors")
        .and_then(|m| m.getattr("InternalError"))
        .and_then(|cls| cls.call1((what,)))
    {
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
        Ok(Err(Failure::Poisoned)) => Err(internal(
            py,
            "the native engine of this constraint failed earlier and is no longer usable",
        )),
        Err(_) => Err(internal(
            py,
            "internal error in the native engine (a bug; please report it)",
        )),
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
    fn new(
        py: Python<'_>,
        data: &[u8],
        lengths: Vec<i64>,
        size: u32,
        eos: Vec<u32>,
    ) -> PyResult<Self> {
        let mut tokens = Vec::with_capacity(lengths.len());
        let mut pos = 0usize;
        for &n in &lengths {
            if n < 0 {
                tokens.push(None);
                continue;
            }
            let end = pos + n as usize;
            if end > data.len() {
                return Err(PyValueError::new_err(
                    "token lengths exceed the byte buffer",
                ));
            }
            tokens.push(Some(data[pos..end].to_vec()));
            pos = end;
        }
        let vocab = guarded(py, move || Ok(Vocab::new(tokens, size, eos)?))?;
        Ok(NativeVocab {
            inner: Arc::new(vocab),
        })
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
    fn new(
        py: Python<'_>,
        ir: Vec<u8>,
        max_states: usize,
        max_nfa_states: usize,
    ) -> PyResult<Self> {
        let regular = guarded(py, move || {
            Ok(Regular::compile(&ir, max_states, max_nfa_states)?)
        })?;
        Ok(NativeRegular {
            inner: Arc::new(Mutex::new(regular)),
        })
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

    fn forced_bytes<'py>(
        &self,
        py: Python<'py>,
        state: u32,
        limit: usize,
    ) -> PyResult<Bound<'py, PyBytes>> {
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
    budget: Arc<Mutex<Budget>>,
}

#[pymethods]
impl NativeMasks {
    #[new]
    fn new(regular: &NativeRegular, vocab: &NativeVocab) -> Self {
        NativeMasks {
            regular: regular.inner.clone(),
            vocab: vocab.inner.clone(),
            budget: Arc::new(Mutex::new(Budget::default())),
        }
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
    fn budget_mask<'py>(
        &self,
        py: Python<'py>,
        state: u32,
        remaining: i64,
    ) -> PyResult<Bound<'py, PyBytes>> {
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

/// One row of a batch: whose masks, which state, and the token budget (`None`: the plain mask).
struct Job {
    regular: Arc<Mutex<Regular>>,
    vocab: Arc<Vocab>,
    budget: Arc<Mutex<Budget>>,
    state: u32,
    remaining: Option<i64>,
}

fn run_job(job: &Job) -> Result<Vec<u32>, Failure> {
    let mut r = lock(&job.regular)?;
    check_state(&r, job.state)?;
    match job.remaining {
        None => Ok(r.mask(&job.vocab, job.state)?),
        Some(left) => {
            let mut b = lock(&job.budget)?;
            Ok(b.mask(&mut r.dfa, &job.vocab, job.state, left)?)
        }
    }
}

/// Masks of a whole batch in one call: `(masks, state, remaining or None)` per row, computed with the
/// GIL released, rows of different constraints on parallel threads (rows of one constraint share its
/// automaton and run one after another). Returns each row's words as bytes, in order.
#[pyfunction]
#[pyo3(signature = (jobs, threads = 0))]
fn compute_masks<'py>(
    py: Python<'py>,
    jobs: Vec<(PyRef<'py, NativeMasks>, u32, Option<i64>)>,
    threads: usize,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let jobs: Vec<Job> = jobs
        .iter()
        .map(|(m, state, remaining)| Job {
            regular: m.regular.clone(),
            vocab: m.vocab.clone(),
            budget: m.budget.clone(),
            state: *state,
            remaining: *remaining,
        })
        .collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: Vec<(*const Mutex<Regular>, usize)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let key = Arc::as_ptr(&job.regular);
        match group_of.iter().find(|(k, _)| *k == key) {
            Some(&(_, g)) => groups[g].push(i),
            None => {
                group_of.push((key, groups.len()));
                groups.push(vec![i]);
            }
        }
    }
    let limit = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let workers = limit.min(groups.len()).max(1);
    let results = guarded(py, || {
        let mut out: Vec<Option<Vec<u32>>> = vec![None; jobs.len()];
        if workers == 1 {
            for (i, job) in jobs.iter().enumerate() {
                out[i] = Some(run_job(job)?);
            }
            return Ok(out);
        }
        let computed: Vec<Result<Vec<(usize, Vec<u32>)>, Failure>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let mine: Vec<usize> = groups
                        .iter()
                        .skip(w)
                        .step_by(workers)
                        .flatten()
                        .copied()
                        .collect();
                    let jobs = &jobs;
                    scope.spawn(move || {
                        let mut done = Vec::with_capacity(mine.len());
                        for i in mine {
                            done.push((i, run_job(&jobs[i])?));
                        }
                        Ok(done)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(Failure::Poisoned)))
                .collect()
        });
        for part in computed {
            for (i, words) in part? {
                out[i] = Some(words);
            }
        }
        Ok(out)
    })?;
    Ok(results
        .iter()
        .map(|w| words_to_bytes(py, w.as_deref().unwrap_or(&[])))
        .collect())
}

/// Why a table walk stopped: a core limit, or the Python callback raised.
enum WalkError {
    Core(CoreError),
    Py(PyErr),
}

impl From<CoreError> for WalkError {
    fn from(e: CoreError) -> Self {
        WalkError::Core(e)
    }
}

/// The parser side of a grammar, answered by a Python object with `allowed(parse)` and `advance(parse, tag)`.
struct PyParser<'py> {
    obj: Bound<'py, PyAny>,
}

impl Parser for PyParser<'_> {
    type Error = WalkError;

    fn allowed(&mut self, parse: u32) -> Result<Vec<u64>, WalkError> {
        self.obj
            .call_method1("allowed", (parse,))
            .and_then(|v| v.extract::<Vec<u64>>())
            .map_err(WalkError::Py)
    }

    fn advance(&mut self, parse: u32, tag: u32) -> Result<u32, WalkError> {
        let next: i64 = self
            .obj
            .call_method1("advance", (parse, tag))
            .and_then(|v| v.extract())
            .map_err(WalkError::Py)?;
        Ok(if next < 0 { NO_PARSE } else { next as u32 })
    }
}

fn walk_result<T>(py: Python<'_>, found: std::thread::Result<Result<T, WalkError>>) -> PyResult<T> {
    match found {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(WalkError::Core(e))) => Err(to_py(py, e)),
        Ok(Err(WalkError::Py(e))) => Err(e),
        Err(_) => Err(internal(
            py,
            "internal error in the native engine (a bug; please report it)",
        )),
    }
}

/// A grammar's tagged lexer DFA and interned hypothesis sets; the parser stays in Python.
#[pyclass(module = "constrain._native")]
struct NativeGrammar {
    inner: HypMachine,
}

#[pymethods]
impl NativeGrammar {
    #[new]
    fn new(
        py: Python<'_>,
        ir: Vec<u8>,
        max_states: usize,
        follow_class: Vec<u16>,
        forbidden: Vec<Vec<u64>>,
        max_sets: usize,
    ) -> PyResult<Self> {
        let build = || -> Result<HypMachine, CoreError> {
            let ir = constrain_core::wire::decode(&ir)?;
            let nfa = constrain_core::nfa::build(&ir, constrain_core::nfa::DEFAULT_MAX_NFA_STATES)?;
            let lex = constrain_core::dfa::LazyDfa::new(&nfa, max_states)?;
            HypMachine::new(lex, &follow_class, forbidden, max_sets)
        };
        Ok(NativeGrammar {
            inner: build().map_err(|e| to_py(py, e))?,
        })
    }

    #[getter]
    fn tag_words(&self) -> usize {
        self.inner.lex.tag_words
    }

    #[getter]
    fn num_sets(&self) -> usize {
        self.inner.num_sets()
    }

    /// The hypothesis set of the initial parse state.
    fn initial(&mut self, py: Python<'_>, parse: u32) -> PyResult<u32> {
        self.inner.initial(parse).map_err(|e| to_py(py, e))
    }

    /// The set after `data` (0 once nothing survives).
    fn run(
        &mut self,
        py: Python<'_>,
        parser: Bound<'_, PyAny>,
        set: u32,
        data: &[u8],
    ) -> PyResult<u32> {
        let mut p = PyParser { obj: parser };
        let found = catch_unwind(AssertUnwindSafe(|| self.inner.run(&mut p, set, data)));
        walk_result(py, found)
    }

    /// The allowed-token words of `set` (no end-of-sequence bits).
    fn mask<'py>(
        &mut self,
        py: Python<'py>,
        parser: Bound<'py, PyAny>,
        vocab: &NativeVocab,
        set: u32,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let vocab = vocab.inner.clone();
        let mut p = PyParser { obj: parser };
        let found = catch_unwind(AssertUnwindSafe(|| self.inner.mask(&mut p, &vocab, set)));
        let words = walk_result(py, found)?;
        Ok(words_to_bytes(py, &words))
    }
}

/// Whether the IR's language is empty.
#[pyfunction]
fn is_empty(py: Python<'_>, ir: Vec<u8>, max_nfa_states: usize) -> PyResult<bool> {
    guarded(py, move || {
        Ok(constrain_core::ops::is_empty(&ir, max_nfa_states)?)
    })
}

/// A trimmed byte DFA `(num_states, moves, accepting)` for the product of the operands (strings each
/// accepts, or rejects where `negate`), or `None` for the empty language.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn product(
    py: Python<'_>,
    irs: Vec<Vec<u8>>,
    negate: Vec<bool>,
    max_states: usize,
    max_nfa_states: usize,
) -> PyResult<Option<(u32, Vec<(u32, u8, u8, u32)>, Vec<u32>)>> {
    if irs.len() != negate.len() {
        return Err(PyValueError::new_err("one negate flag per operand"));
    }
    let found = guarded(py, move || {
        Ok(constrain_core::ops::product(
            &irs,
            &negate,
            max_states,
            max_nfa_states,
        )?)
    })?;
    Ok(found.map(|d| (d.num_states, d.moves, d.accept)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("IR_VERSION", IR_VERSION)?;
    m.add_function(wrap_pyfunction!(is_empty, m)?)?;
    m.add_function(wrap_pyfunction!(product, m)?)?;
    m.add_function(wrap_pyfunction!(compute_masks, m)?)?;
    m.add_class::<NativeVocab>()?;
    m.add_class::<NativeRegular>()?;
    m.add_class::<NativeMasks>()?;
    m.add_class::<NativeGrammar>()?;
    Ok(())
}
