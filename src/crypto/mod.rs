//! Keys and primitives: key files under `data/keys` (0600), sha256, HMAC signing of payloads
//! such as signed download URLs, random tokens.

pub mod field;
pub mod mask;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use ring::{digest, hmac};
use std::path::Path;

/// Secret keys of this installation.
#[derive(Clone)]
pub struct Keys {
    /// HS256 key for access tokens.
    pub jwt: Vec<u8>,
    /// HMAC key for signed URLs and QR payloads.
    pub signing: Vec<u8>,
    /// HMAC key of the audit log's hash chain (kept out of the database on purpose).
    pub audit: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    /// Load the key files from `dir`, creating any that are missing (32 random bytes, mode 0600).
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Keys> {
        crate::config::ensure_dir(dir)?;
        Ok(Keys {
            jwt: load_key(dir, "jwt.key")?,
            signing: load_key(dir, "signing.key")?,
            audit: load_key(dir, "audit.key")?,
        })
    }

    /// Keys for tests that need no files.
    pub fn ephemeral() -> Keys {
        Keys {
            jwt: random_bytes(32),
            signing: random_bytes(32),
            audit: random_bytes(32),
        }
    }
}

fn load_key(dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    let path = dir.join(name);
    if path.exists() {
        let text = std::fs::read_to_string(&path)?;
        let key = hex::decode(text.trim())
            .map_err(|_| anyhow::anyhow!("密钥文件 {} 已损坏", path.display()))?;
        if key.len() < 32 {
            anyhow::bail!("密钥文件 {} 长度不足", path.display());
        }
        return Ok(key);
    }
    let key = random_bytes(32);
    write_private(&path, hex::encode(&key).as_bytes())?;
    Ok(key)
}

/// Write a file readable only by the owner.
pub fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("无法写入 {}: {e}", path.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(())
}

/// Random bytes from the OS generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    b
}

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// sha256 as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// HMAC-SHA256 of `msg`, URL-safe base64.
pub fn sign(key: &[u8], msg: &str) -> String {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    URL_SAFE_NO_PAD.encode(hmac::sign(&k, msg.as_bytes()))
}

/// Constant-time check of a signature made by [`sign`].
pub fn verify(key: &[u8], msg: &str, sig: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::verify(&k, msg.as_bytes(), &tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_round_trip_and_tamper() {
        let k = random_bytes(32);
        let s = sign(&k, "file:1:1700000000");
        assert!(verify(&k, "file:1:1700000000", &s));
        assert!(!verify(&k, "file:2:1700000000", &s));
        assert!(!verify(&k, "file:1:1700000000", "garbage!"));
    }

    #[test]
    fn keys_are_created_once_with_private_mode() {
        let d = tempfile::tempdir().unwrap();
        let a = Keys::load_or_create(d.path()).unwrap();
        let b = Keys::load_or_create(d.path()).unwrap();
        assert_eq!(a.jwt, b.jwt);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join("jwt.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
