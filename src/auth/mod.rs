//! Identity: passwords, tokens, the staff principal and its extractor, permissions, data scope.

pub mod admin;
pub mod cache;
pub mod password;
pub mod permissions;
pub mod scope;
pub mod tokens;

pub use admin::AdminAuth;
pub use scope::Scope;
