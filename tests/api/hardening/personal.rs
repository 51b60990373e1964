//! Hardening tests (issue 17): personal.

use crate::support::*;
