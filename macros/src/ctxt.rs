//! Collects every error of one derive so they are reported together.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// The errors found so far while expanding one derive.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Option<syn::Error>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt::default()
    }

    /// Records an error spanned at `tokens` (first to last token).
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error spanned at one span.
    pub(crate) fn error_at<M: Display>(&self, span: proc_macro2::Span, message: M) {
        self.push(syn::Error::new(span, message));
    }

    /// Records a `syn` error as is.
    pub(crate) fn push(&self, error: syn::Error) {
        let mut errors = self.errors.borrow_mut();
        match errors.as_mut() {
            Some(all) => all.combine(error),
            None => *errors = Some(error),
        }
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.errors.borrow().is_some()
    }

    /// The messages of the errors, in order.
    #[cfg(test)]
    pub(crate) fn into_errors(self) -> Vec<String> {
        self.errors
            .into_inner()
            .into_iter()
            .flat_map(|all| all.into_iter().map(|e| e.to_string()))
            .collect()
    }

    /// The errors as `compile_error!` invocations, or nothing.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.errors
            .into_inner()
            .map(|e| e.to_compile_error())
            .unwrap_or_default()
    }
}

/// The Levenshtein distance between two short strings.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&word_lower, c), *c))
        .filter(|(d, c)| {
            *d <= (c.len().max(word.len()) / 3).max(1)
                || (word_lower.len() >= 3 && c.starts_with(&word_lower))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("storage", "storage"), 0);
        assert_eq!(edit_distance("stroage", "storage"), 2);
        assert_eq!(edit_distance("storag", "storage"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        let keys = ["storage", "store", "no_store", "explain", "crate", "allow"];
        assert_eq!(did_you_mean("storag", &keys), Some("storage"));
        assert_eq!(did_you_mean("stroage", &keys), Some("storage"));
        assert_eq!(did_you_mean("nostore", &keys), Some("no_store"));
        assert_eq!(did_you_mean("explian", &keys), Some("explain"));
        assert_eq!(did_you_mean("Storage", &keys), Some("storage"));
        assert_eq!(did_you_mean("xyz", &keys), None);
        assert_eq!(
            did_you_mean("box", &["inline", "boxed", "pooled"]),
            Some("boxed")
        );
    }
}
