//! Hardening tests (issue 17): personal.
