//! Access tokens (HS256 JWT with an audience) and rotating refresh tokens stored hashed.

use crate::crypto::{Keys, random_token, sha256_hex};
use crate::error::{AppError, Result};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Staff audience.
pub const AUD_ADMIN: &str = "admin";
/// Member audience.
pub const AUD_APP: &str = "app";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Account id, as a string as RFC 7519 wants.
    pub sub: String,
    /// `admin` or `app`.
    pub aud: String,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expiry (unix seconds).
    pub exp: i64,
    /// The account's token version when issued; a bump revokes the token.
    pub ver: i64,
    /// Staff session (`admin_sessions.id`): ending the session revokes the token. Member
    /// tokens carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<i64>,
}

impl Claims {
    /// The account id (validated as an integer when decoding).
    pub fn subject(&self) -> i64 {
        self.sub.parse().unwrap_or(0)
    }
}

/// Sign an access token without a session (member tokens).
pub fn issue_access(keys: &Keys, aud: &str, sub: i64, ver: i64, ttl_secs: i64) -> Result<String> {
    sign(keys, aud, sub, ver, None, ttl_secs)
}

/// Sign a staff access token bound to session `sid`.
pub fn issue_admin_access(
    keys: &Keys,
    sub: i64,
    ver: i64,
    sid: i64,
    ttl_secs: i64,
) -> Result<String> {
    sign(keys, AUD_ADMIN, sub, ver, Some(sid), ttl_secs)
}

fn sign(keys: &Keys, aud: &str, sub: i64, ver: i64, sid: Option<i64>, ttl: i64) -> Result<String> {
    let now = crate::time::now();
    let claims = Claims {
        sub: sub.to_string(),
        aud: aud.into(),
        iat: now,
        exp: now + ttl,
        ver,
        sid,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&keys.jwt),
    )
    .map_err(AppError::internal)
}

/// Verify signature, algorithm (HS256 only, so `alg: none` is refused), expiry and audience.
pub fn decode_access(keys: &Keys, token: &str, aud: &str) -> Result<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[aud]);
    v.set_required_spec_claims(&["exp", "aud", "sub"]);
    v.leeway = 0;
    decode::<Claims>(token, &DecodingKey::from_secret(&keys.jwt), &v)
        .map(|d| d.claims)
        .and_then(|c| {
            c.sub
                .parse::<i64>()
                .map(|_| c)
                .map_err(|_| jsonwebtoken::errors::ErrorKind::InvalidSubject.into())
        })
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let msg = match e.kind() {
                ErrorKind::ExpiredSignature => "登录已过期，请重新登录",
                _ => "登录凭证无效，请重新登录",
            };
            AppError::Unauthenticated(msg.into())
        })
}

/// Create a refresh token in `family` (a new family for a fresh login); returns the plain token.
pub fn issue_refresh(
    conn: &Connection,
    aud: &str,
    subject_id: i64,
    family: Option<&str>,
    ttl_secs: i64,
) -> Result<String> {
    let token = random_token(32);
    let family = family
        .map(str::to_string)
        .unwrap_or_else(|| random_token(12));
    let now = crate::time::now();
    conn.execute(
        "INSERT INTO refresh_tokens (audience, subject_id, token_hash, family, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![aud, subject_id, sha256_hex(token.as_bytes()), family, now + ttl_secs, now],
    )?;
    Ok(token)
}

/// Spend a refresh token: on success it is revoked and a new one of the same family is
/// returned with the subject id. Reusing an already rotated token revokes its whole family
/// (someone holds a stolen copy). `Ok(None)` means invalid: the caller must still commit, so
/// that a family revocation sticks.
pub fn rotate_refresh(
    conn: &Connection,
    aud: &str,
    token: &str,
    ttl_secs: i64,
) -> Result<Option<(i64, String)>> {
    let hash = sha256_hex(token.as_bytes());
    let row: Option<(i64, i64, String, i64, Option<i64>)> = conn
        .query_row(
            "SELECT id, subject_id, family, expires_at, revoked_at FROM refresh_tokens
             WHERE token_hash = ?1 AND audience = ?2",
            params![hash, aud],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((id, subject, family, expires_at, revoked_at)) = row else {
        return Ok(None);
    };
    let now = crate::time::now();
    if revoked_at.is_some() {
        conn.execute(
            "UPDATE refresh_tokens SET revoked_at = ?1 WHERE family = ?2 AND revoked_at IS NULL",
            params![now, family],
        )?;
        return Ok(None);
    }
    if expires_at <= now {
        return Ok(None);
    }
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE id = ?2",
        params![now, id],
    )?;
    let new = issue_refresh(conn, aud, subject, Some(&family), ttl_secs)?;
    Ok(Some((subject, new)))
}

/// Revoke every live refresh token of a subject.
pub fn revoke_all(conn: &Connection, aud: &str, subject_id: i64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1 WHERE audience = ?2 AND subject_id = ?3 AND revoked_at IS NULL",
        params![crate::time::now(), aud, subject_id],
    )?)
}

/// The family of a refresh token (to find the session a refresh belongs to).
pub fn family_of(conn: &Connection, aud: &str, token: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT family FROM refresh_tokens WHERE token_hash = ?1 AND audience = ?2",
            params![sha256_hex(token.as_bytes()), aud],
            |r| r.get(0),
        )
        .optional()?)
}

/// Revoke the family of one refresh token (logout of one session).
pub fn revoke_family_of(conn: &Connection, aud: &str, token: &str) -> Result<()> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ?1
         WHERE family = (SELECT family FROM refresh_tokens WHERE token_hash = ?2 AND audience = ?3)
           AND revoked_at IS NULL",
        params![crate::time::now(), sha256_hex(token.as_bytes()), aud],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_checks_audience_and_alg() {
        let k = Keys::ephemeral();
        let t = issue_access(&k, AUD_ADMIN, 1, 1, 60).unwrap();
        assert_eq!(decode_access(&k, &t, AUD_ADMIN).unwrap().subject(), 1);
        assert!(decode_access(&k, &t, AUD_APP).is_err());
        // alg:none with the same claims
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = t.split('.').nth(1).unwrap();
        let none = format!("{}.{}.", e.encode(r#"{"alg":"none","typ":"JWT"}"#), payload);
        assert!(decode_access(&k, &none, AUD_ADMIN).is_err());
        let other = Keys::ephemeral();
        assert!(decode_access(&other, &t, AUD_ADMIN).is_err());
    }

    #[test]
    fn refresh_rotates_and_reuse_revokes_family() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        let t1 = issue_refresh(&c, AUD_ADMIN, 7, None, 100).unwrap();
        let (sub, t2) = rotate_refresh(&c, AUD_ADMIN, &t1, 100).unwrap().unwrap();
        assert_eq!(sub, 7);
        assert!(
            rotate_refresh(&c, AUD_ADMIN, &t1, 100).unwrap().is_none(),
            "reuse must fail"
        );
        assert!(
            rotate_refresh(&c, AUD_ADMIN, &t2, 100).unwrap().is_none(),
            "family revoked after reuse"
        );
        assert!(rotate_refresh(&c, AUD_APP, "nope", 100).unwrap().is_none());
    }
}
