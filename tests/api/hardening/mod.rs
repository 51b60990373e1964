//! Issue 17: the holes an outside review found, each with a test that failed before its fix.

mod activities_files;
mod core;
mod personal;
