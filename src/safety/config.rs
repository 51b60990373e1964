//! `[safety]` settings: whose review photos are published without waiting for a moderator.

use serde::{Deserialize, Serialize};

/// Whose uploaded images for public display (activity review photos) skip moderation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageTrust {
    /// Nobody: every public photo waits for a moderator (the default).
    #[default]
    None,
    /// Active union members of an org (identity reviewed on joining); others are held.
    Members,
    /// Everybody: photos are published at once (only for closed, trusted installations).
    All,
}

/// Content-safety settings an office may tune.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafetyConfig {
    /// `none` (default), `members` or `all`: whose review photos are shown without moderation.
    pub trusted_image_uploaders: ImageTrust,
}
