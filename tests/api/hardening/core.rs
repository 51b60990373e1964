//! Hardening tests (issue 17): core.

use crate::support::*;
