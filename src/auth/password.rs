//! Argon2id password hashing (m=19456 KiB, t=2, p=1 — the crate's defaults) and the policy.
//! Hashing is CPU-heavy: callers run it through `spawn_blocking`.

use crate::error::{AppError, Result};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hash a password to a PHC string.
pub fn hash(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// True when `password` matches the PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Hash and verify off the async executor.
pub async fn hash_async(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(AppError::internal)?
}

/// Verify off the async executor. With `None` a dummy hash is checked so that an unknown
/// user costs the same time as a wrong password.
pub async fn verify_async(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(h) => verify(&password, &h),
        None => {
            let _ = verify(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash("dummy-password-for-timing").unwrap_or_default())
}

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted.
pub const MAX_LEN: usize = 128;
/// Character classes (upper, lower, digit, symbol) a password must mix.
pub const MIN_CLASSES: usize = 3;
/// The policy in words: the one text the API, the admin UI hint and the README show.
pub const POLICY_TEXT: &str = "密码至少 8 位（最多 128 位），须包含大写字母、小写字母、数字、符号中的至少三类，且不能与用户名相同";

/// The password policy, for clients that show it before the user types.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Policy {
    /// Shortest length.
    pub min_length: usize,
    /// Longest length.
    pub max_length: usize,
    /// Character classes to mix (of upper, lower, digit, symbol).
    pub min_classes: usize,
    /// The policy in Chinese, to show as the hint.
    pub text: &'static str,
}

/// The policy as data.
pub fn policy() -> Policy {
    Policy {
        min_length: MIN_LEN,
        max_length: MAX_LEN,
        min_classes: MIN_CLASSES,
        text: POLICY_TEXT,
    }
}

/// Password policy ([`POLICY_TEXT`]): at least 8 characters, at least 3 of
/// upper/lower/digit/symbol, not equal to the username. Answers a field error on `field`.
pub fn check_policy(field: &str, password: &str, username: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(AppError::field(field, POLICY_TEXT));
    }
    if chars > MAX_LEN {
        return Err(AppError::field(field, POLICY_TEXT));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|b| **b).count() < MIN_CLASSES {
        return Err(AppError::field(field, POLICY_TEXT));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(AppError::field(field, POLICY_TEXT));
    }
    Ok(())
}

/// A random password that satisfies the policy (for the bootstrap admin and resets).
pub fn generate() -> String {
    // Base64url gives upper, lower and digits; the suffix guarantees every class.
    format!("{}-Aa1", crate::crypto::random_token(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_and_is_argon2id() {
        let h = hash("Secret#123").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Secret#123", &h));
        assert!(!verify("Secret#124", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("p", "Ab1!", "u").is_err());
        assert!(check_policy("p", "abcdefgh", "u").is_err());
        assert!(check_policy("p", "abcdefg1", "u").is_err());
        assert!(check_policy("p", "Abcdefg1", "u").is_ok());
        assert!(check_policy("p", "abcdef1!", "u").is_ok());
        assert!(check_policy("p", "Admin123", "admin123").is_err());
        assert!(check_policy("p", &generate(), "admin").is_ok());
    }
}
