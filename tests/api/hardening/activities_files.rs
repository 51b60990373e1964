//! Hardening tests (issue 17): activities_files — xlsx import limits (item 5), member uploads
//! (item 9), check-in (items 11, 12), file access by reference (item 15), one HTML sanitiser
//! (item 18).

mod checkin;
mod uploads;
mod xlsx;
mod xlsx_memory;
