//! News: life cycle, scheduling, scope and visibility, sanitising, search, index repair and
//! the `reindex` command.

pub mod helpers;
mod lifecycle;
mod repair;
mod search;
mod visibility;
