//! Hardening tests (issue 17): activities_files.
