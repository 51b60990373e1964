//! Members domain.

pub mod idcard;
