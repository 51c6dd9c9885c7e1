//! The running count through the pipeline, each term a step that binds when
//! it changes the count, and the one-line explanation built from it.

use super::decision::{Direction, Step, Term};
use super::signals::AssessedSignal;

/// The running count and the steps that shaped it.
pub(super) struct Chain {
    pub(super) value: u32,
    pub(super) steps: Vec<Step>,
    /// What the trusted signals want, before windows, limits and guards
    /// (the stabilization windows remember it); `None` with no trusted signal.
    pub(super) recommendation: Option<u32>,
}

impl Chain {
    pub(super) fn new(start: u32) -> Self {
        Chain {
            value: start,
            steps: Vec::new(),
            recommendation: None,
        }
    }

    /// Marks the count so far as the signals' recommendation, when some signal was trusted.
    pub(super) fn recommend(&mut self, trusted: bool) {
        if trusted {
            self.recommendation = Some(self.value);
        }
    }

    /// Records a term; it binds if it changed the count.
    pub(super) fn set(&mut self, term: Term, value: u32, detail: String) {
        self.steps.push(Step {
            term,
            value,
            binding: value != self.value,
            detail,
        });
        self.value = value;
    }

    pub(super) fn binding_terms(&self) -> Vec<Term> {
        let mut terms = Vec::new();
        for s in self.steps.iter().filter(|s| s.binding) {
            if !terms.contains(&s.term) {
                terms.push(s.term);
            }
        }
        terms
    }
}

/// One line for humans: the verb, what each signal wanted (and the pool
/// they make, when sized as one), and the binding terms.
pub(super) fn explanation(
    target: &str,
    previous: u32,
    desired: u32,
    direction: Direction,
    assessed: &[AssessedSignal],
    pooled: Option<u32>,
    bounded_by: &[Term],
) -> String {
    let verb = match direction {
        Direction::None => format!("stay at {desired}"),
        Direction::ScaleOut => format!("scale out {previous} -> {desired}"),
        Direction::ScaleIn => format!("scale in {previous} -> {desired}"),
    };
    let signals = assessed
        .iter()
        .map(|a| match (a.wanted, a.assessment.backlog) {
            (Some(w), Some(b)) => format!("{} backlog {b} wants {w}", a.assessment.signal),
            _ => format!("{} untrusted", a.assessment.signal),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let signals = match pooled {
        Some(n) => format!("{signals}; pooled they want {n}"),
        None => signals,
    };
    let terms = if bounded_by.is_empty() {
        "nothing".to_string()
    } else {
        bounded_by
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{target}: {verb} ({signals}; shaped by {terms})")
}
