//! Field-level encryption of sensitive personal data (ID numbers, bank cards, family income)
//! plus a keyed blind index for lookups and uniqueness checks.
//!
//! Ciphertext text format: `v1:<key_id>:<base64url(nonce || ciphertext || tag)>`. The key id
//! travels with the value so keys can rotate: new values use the current key while values
//! written earlier still name (and decrypt with) the key that sealed them.
//!
//! Keys live in `<keys_dir>/field.key` (one `<key_id> <hex key>` per line, oldest first, the
//! last line is current) and `<keys_dir>/blind.key` (hex). `GONGHUI_FIELD_KEY` may supply keys
//! kept outside the data directory: comma-separated `[<key_id>:]<hex key>`, the last current.

use super::{random_bytes, write_private};
use crate::error::{AppError, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use std::collections::HashMap;
use std::path::Path;

/// Version tag of the ciphertext format written by [`AesGcmCipher`].
pub const FORMAT_VERSION: &str = "v1";
/// Environment variable with field keys kept outside the data directory.
pub const FIELD_KEY_ENV: &str = "GONGHUI_FIELD_KEY";
const FIELD_KEY_FILE: &str = "field.key";
const BLIND_KEY_FILE: &str = "blind.key";
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const FILE_HEADER: &str = "# gonghui field keys: \"<key id> <64 hex chars>\" per line, oldest first.\n\
# The last line is the current key; keep older lines so older values still decrypt.\n";

/// Encrypts single field values; implemented by AES-256-GCM here, replaceable by SM4.
pub trait FieldCipher: Send + Sync {
    /// Encrypt `plaintext`, bound to the context `aad` (e.g. `"member.id_number"`).
    fn encrypt(&self, plaintext: &str, aad: &str) -> Result<String>;
    /// Decrypt a value written by [`FieldCipher::encrypt`] with the same `aad`.
    fn decrypt(&self, ciphertext: &str, aad: &str) -> Result<String>;
    /// Keyed, deterministic index of an already normalized value (for lookups and UNIQUE).
    fn blind_index(&self, normalized: &str) -> String;
    /// Id of the key new ciphertexts are sealed with.
    fn key_id(&self) -> &str;
}

/// The key id named in a ciphertext, e.g. to find values still sealed with a retired key.
pub fn ciphertext_key_id(ciphertext: &str) -> Option<&str> {
    split_ciphertext(ciphertext).map(|(_, id, _)| id)
}

/// `(version, key id, body)` of a ciphertext; base64url bodies never contain `:`.
fn split_ciphertext(ciphertext: &str) -> Option<(&str, &str, &str)> {
    let mut parts = ciphertext.splitn(3, ':');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

fn fail(what: impl std::fmt::Display) -> AppError {
    // Callers never pass plaintext here; ids and contexts are not secret.
    AppError::Internal(format!("field cipher: {what}"))
}

fn valid_key_id(id: &str) -> bool {
    // Ids appear in the colon-separated ciphertext header, so keep them to a safe alphabet.
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn parse_key(hex_text: &str, source: &str) -> Result<[u8; KEY_LEN]> {
    let bytes =
        hex::decode(hex_text.trim()).map_err(|_| fail(format!("{source}: 密钥不是十六进制")))?;
    bytes
        .try_into()
        .map_err(|_| fail(format!("{source}: 密钥必须是 32 字节（64 个十六进制字符）")))
}

/// Key material for field encryption: data keys by id (last = current) and the blind-index key.
#[derive(Clone)]
pub struct FieldKeys {
    keys: Vec<(String, [u8; KEY_LEN])>,
    blind: [u8; KEY_LEN],
}

impl std::fmt::Debug for FieldKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FieldKeys(current={}, keys={}, ***)",
            self.current_id(),
            self.keys.len()
        )
    }
}

impl FieldKeys {
    /// Load keys from `keys_dir` and `GONGHUI_FIELD_KEY`, creating missing key files (0600).
    pub fn load_or_create(keys_dir: &Path) -> Result<FieldKeys> {
        let env = std::env::var(FIELD_KEY_ENV).ok();
        Self::load_or_create_with(keys_dir, env.as_deref())
    }

    /// Like [`FieldKeys::load_or_create`] with the environment value passed in (for tests).
    /// Env keys come after file keys, so the last env key is current; `field.key` is then
    /// read if present (to decrypt older values) but not created.
    pub fn load_or_create_with(keys_dir: &Path, env_keys: Option<&str>) -> Result<FieldKeys> {
        crate::config::ensure_dir(keys_dir).map_err(fail)?;
        let path = keys_dir.join(FIELD_KEY_FILE);
        let mut keys = Vec::new();
        if path.exists() {
            for entry in parse_key_file(&std::fs::read_to_string(&path).map_err(fail)?)? {
                push_key(&mut keys, entry)?;
            }
        }
        match env_keys.map(str::trim).filter(|s| !s.is_empty()) {
            Some(env) => {
                for item in env.split(',') {
                    push_key(&mut keys, parse_env_entry(item.trim())?)?;
                }
            }
            None if keys.is_empty() => {
                let entry = new_entry();
                let text = format!("{FILE_HEADER}{} {}\n", entry.0, hex::encode(entry.1));
                write_private(&path, text.as_bytes()).map_err(fail)?;
                keys.push(entry);
            }
            None => {}
        }
        Ok(FieldKeys {
            keys,
            blind: load_or_create_blind(keys_dir)?,
        })
    }

    /// Append a new current key to an existing `field.key`, keeping the old ones; returns the
    /// new key id. The next load encrypts with it (unless `GONGHUI_FIELD_KEY` names a later
    /// key); existing values still decrypt. Re-encrypting old values is the caller's job.
    pub fn rotate(keys_dir: &Path) -> Result<String> {
        let path = keys_dir.join(FIELD_KEY_FILE);
        let mut text = std::fs::read_to_string(&path).map_err(fail)?;
        parse_key_file(&text)?; // refuse to build on a missing or damaged file
        let (id, key) = new_entry();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{id} {}\n", hex::encode(key)));
        // Write beside and rename so a crash never leaves a half-written key file.
        let tmp = keys_dir.join("field.key.tmp");
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, text.as_bytes()).map_err(fail)?;
        std::fs::rename(&tmp, &path).map_err(fail)?;
        Ok(id)
    }

    /// Random keys held only in memory (tests, throwaway instances).
    pub fn ephemeral() -> FieldKeys {
        let mut blind = [0u8; KEY_LEN];
        blind.copy_from_slice(&random_bytes(KEY_LEN));
        FieldKeys {
            keys: vec![new_entry()],
            blind,
        }
    }

    /// Id of the current (newest) data key.
    pub fn current_id(&self) -> &str {
        self.keys.last().map(|(id, _)| id.as_str()).unwrap_or("")
    }
}

fn new_entry() -> (String, [u8; KEY_LEN]) {
    let mut key = [0u8; KEY_LEN];
    key.copy_from_slice(&random_bytes(KEY_LEN));
    (format!("k{}", hex::encode(random_bytes(4))), key)
}

fn push_key(keys: &mut Vec<(String, [u8; KEY_LEN])>, entry: (String, [u8; KEY_LEN])) -> Result<()> {
    if let Some(i) = keys.iter().position(|(id, _)| *id == entry.0) {
        if keys[i].1 != entry.1 {
            return Err(fail(format!("密钥编号 {} 重复且密钥不同", entry.0)));
        }
        // Same key listed twice (file and env): keep one copy, at the later position.
        keys.remove(i);
    }
    keys.push(entry);
    Ok(())
}

fn parse_key_file(text: &str) -> Result<Vec<(String, [u8; KEY_LEN])>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let source = format!("{FIELD_KEY_FILE} 第 {} 行", n + 1);
        let (id, key) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| fail(format!("{source}: 应为 \"<编号> <密钥>\"")))?;
        if !valid_key_id(id) {
            return Err(fail(format!("{source}: 密钥编号无效")));
        }
        out.push((id.to_string(), parse_key(key, &source)?));
    }
    if out.is_empty() {
        return Err(fail(format!("{FIELD_KEY_FILE} 中没有密钥")));
    }
    Ok(out)
}

fn parse_env_entry(item: &str) -> Result<(String, [u8; KEY_LEN])> {
    let (id, hex_text) = match item.split_once(':') {
        Some((id, k)) => (id.trim().to_string(), k),
        None => {
            let key = parse_key(item, FIELD_KEY_ENV)?;
            // A stable id derived from the key, so the same env key always names itself alike.
            let id = format!("e{}", &super::sha256_hex(&key)[..8]);
            return Ok((id, key));
        }
    };
    if !valid_key_id(&id) {
        return Err(fail(format!("{FIELD_KEY_ENV}: 密钥编号无效")));
    }
    Ok((id, parse_key(hex_text, FIELD_KEY_ENV)?))
}

fn load_or_create_blind(keys_dir: &Path) -> Result<[u8; KEY_LEN]> {
    let path = keys_dir.join(BLIND_KEY_FILE);
    if path.exists() {
        return parse_key(
            &std::fs::read_to_string(&path).map_err(fail)?,
            BLIND_KEY_FILE,
        );
    }
    let (_, key) = new_entry();
    write_private(&path, hex::encode(key).as_bytes()).map_err(fail)?;
    Ok(key)
}

/// [`FieldCipher`] with AES-256-GCM (ring), random 96-bit nonces and HMAC-SHA256 blind index.
pub struct AesGcmCipher {
    current: String,
    keys: HashMap<String, LessSafeKey>,
    blind: hmac::Key,
}

impl std::fmt::Debug for AesGcmCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AesGcmCipher(current={}, ***)", self.current)
    }
}

impl AesGcmCipher {
    /// Build the cipher from loaded key material.
    pub fn new(keys: &FieldKeys) -> Result<AesGcmCipher> {
        let mut map = HashMap::new();
        for (id, k) in &keys.keys {
            let unbound = UnboundKey::new(&AES_256_GCM, k).map_err(|_| fail("bad key length"))?;
            map.insert(id.clone(), LessSafeKey::new(unbound));
        }
        if map.is_empty() {
            return Err(fail("no data key"));
        }
        Ok(AesGcmCipher {
            current: keys.current_id().to_string(),
            keys: map,
            blind: hmac::Key::new(hmac::HMAC_SHA256, &keys.blind),
        })
    }

    /// A cipher with random in-memory keys (tests).
    pub fn ephemeral() -> AesGcmCipher {
        AesGcmCipher::new(&FieldKeys::ephemeral()).expect("fresh keys are valid")
    }
}

/// The header is authenticated with the caller's context, so neither can be swapped.
fn full_aad(key_id: &str, aad: &str) -> String {
    format!("{FORMAT_VERSION}:{key_id}:{aad}")
}

impl FieldCipher for AesGcmCipher {
    fn encrypt(&self, plaintext: &str, aad: &str) -> Result<String> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| fail("no current key"))?;
        let nonce_bytes = random_bytes(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&nonce_bytes).map_err(|_| fail("nonce"))?;
        let mut buf = plaintext.as_bytes().to_vec();
        key.seal_in_place_append_tag(nonce, Aad::from(full_aad(&self.current, aad)), &mut buf)
            .map_err(|_| fail(format!("encrypt failed ({aad})")))?;
        let mut out = nonce_bytes;
        out.extend_from_slice(&buf);
        Ok(format!(
            "{FORMAT_VERSION}:{}:{}",
            self.current,
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    fn decrypt(&self, ciphertext: &str, aad: &str) -> Result<String> {
        let (version, id, body) = split_ciphertext(ciphertext)
            .ok_or_else(|| fail(format!("malformed ciphertext ({aad})")))?;
        if version != FORMAT_VERSION {
            return Err(fail(format!("unsupported ciphertext version ({aad})")));
        }
        let key = self
            .keys
            .get(id)
            .ok_or_else(|| fail(format!("unknown key id {id} ({aad})")))?;
        let data = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| fail(format!("malformed ciphertext ({aad})")))?;
        if data.len() < NONCE_LEN + TAG_LEN {
            return Err(fail(format!("truncated ciphertext ({aad})")));
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail("nonce"))?;
        let mut buf = sealed.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(full_aad(id, aad)), &mut buf)
            .map_err(|_| fail(format!("authentication failed ({aad}, key {id})")))?;
        String::from_utf8(plain.to_vec()).map_err(|_| fail(format!("not UTF-8 ({aad})")))
    }

    fn blind_index(&self, normalized: &str) -> String {
        hex::encode(hmac::sign(&self.blind, normalized.as_bytes()))
    }

    fn key_id(&self) -> &str {
        &self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: &str = "member.id_number";
    const ID: &str = "11010519491231002X";

    fn b64_body(ct: &str) -> (String, Vec<u8>) {
        let (head, body) = ct.rsplit_once(':').unwrap();
        (head.to_string(), URL_SAFE_NO_PAD.decode(body).unwrap())
    }

    #[test]
    fn round_trip_and_format() {
        let c = AesGcmCipher::ephemeral();
        let ct = c.encrypt(ID, CTX).unwrap();
        assert!(ct.starts_with(&format!("v1:{}:", c.key_id())));
        assert!(!ct.contains(ID));
        assert_eq!(ciphertext_key_id(&ct), Some(c.key_id()));
        assert_eq!(c.decrypt(&ct, CTX).unwrap(), ID);
        assert_eq!(c.decrypt(&c.encrypt("", CTX).unwrap(), CTX).unwrap(), "");
        assert_eq!(
            c.decrypt(&c.encrypt("张三丰", CTX).unwrap(), CTX).unwrap(),
            "张三丰"
        );
    }

    #[test]
    fn same_value_encrypts_differently() {
        let c = AesGcmCipher::ephemeral();
        assert_ne!(c.encrypt(ID, CTX).unwrap(), c.encrypt(ID, CTX).unwrap());
    }

    #[test]
    fn tampering_is_detected_without_leaking_plaintext() {
        let c = AesGcmCipher::ephemeral();
        let ct = c.encrypt(ID, CTX).unwrap();
        let (head, body) = b64_body(&ct);
        for i in 0..body.len() {
            let mut b = body.clone();
            b[i] ^= 0x01;
            let forged = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&b));
            let err = c.decrypt(&forged, CTX).unwrap_err();
            assert!(matches!(err, AppError::Internal(_)));
            assert!(!err.to_string().contains(ID));
        }
        let truncated = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&body[..20]));
        assert!(c.decrypt(&truncated, CTX).is_err());
        assert!(c.decrypt("garbage", CTX).is_err());
        assert!(c.decrypt(&ct.replacen("v1:", "v2:", 1), CTX).is_err());
    }

    #[test]
    fn wrong_context_is_refused() {
        let c = AesGcmCipher::ephemeral();
        let ct = c.encrypt(ID, CTX).unwrap();
        assert!(c.decrypt(&ct, "member.bank_card").is_err());
    }

    #[test]
    fn unknown_key_id_is_refused() {
        let a = AesGcmCipher::ephemeral();
        let b = AesGcmCipher::ephemeral();
        let ct = a.encrypt(ID, CTX).unwrap();
        let err = b.decrypt(&ct, CTX).unwrap_err();
        assert!(err.to_string().contains("unknown key id"));
        // Renaming the key in the header does not help: the header is authenticated.
        let renamed = ct.replacen(a.key_id(), b.key_id(), 1);
        assert!(b.decrypt(&renamed, CTX).is_err());
    }

    #[test]
    fn blind_index_is_stable_and_keyed() {
        let d = tempfile::tempdir().unwrap();
        let a =
            AesGcmCipher::new(&FieldKeys::load_or_create_with(d.path(), None).unwrap()).unwrap();
        let a2 =
            AesGcmCipher::new(&FieldKeys::load_or_create_with(d.path(), None).unwrap()).unwrap();
        let other = AesGcmCipher::ephemeral();
        assert_eq!(a.blind_index(ID), a2.blind_index(ID));
        assert_eq!(a.blind_index(ID).len(), 64);
        assert_ne!(a.blind_index(ID), a.blind_index("110105194912310029"));
        assert_ne!(a.blind_index(ID), other.blind_index(ID));
    }

    #[test]
    fn old_key_still_decrypts_after_rotation() {
        let d = tempfile::tempdir().unwrap();
        let before =
            AesGcmCipher::new(&FieldKeys::load_or_create_with(d.path(), None).unwrap()).unwrap();
        let old = before.encrypt(ID, CTX).unwrap();
        let new_id = FieldKeys::rotate(d.path()).unwrap();
        let keys = FieldKeys::load_or_create_with(d.path(), None).unwrap();
        assert_eq!(keys.current_id(), new_id);
        let after = AesGcmCipher::new(&keys).unwrap();
        assert_ne!(after.key_id(), before.key_id());
        assert_eq!(after.decrypt(&old, CTX).unwrap(), ID);
        let fresh = after.encrypt(ID, CTX).unwrap();
        assert_eq!(ciphertext_key_id(&fresh), Some(new_id.as_str()));
        assert_eq!(after.blind_index(ID), before.blind_index(ID));
        assert!(before.decrypt(&fresh, CTX).is_err());
    }

    #[test]
    fn key_files_are_private_and_stable() {
        let d = tempfile::tempdir().unwrap();
        let a = FieldKeys::load_or_create_with(d.path(), None).unwrap();
        let b = FieldKeys::load_or_create_with(d.path(), None).unwrap();
        assert_eq!(a.current_id(), b.current_id());
        FieldKeys::rotate(d.path()).unwrap();
        #[cfg(unix)]
        for name in [FIELD_KEY_FILE, BLIND_KEY_FILE] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        assert!(!format!("{a:?}").contains(&hex::encode(a.keys[0].1)));
    }

    #[test]
    fn env_keys_override_and_keep_file_keys_readable() {
        let d = tempfile::tempdir().unwrap();
        let file =
            AesGcmCipher::new(&FieldKeys::load_or_create_with(d.path(), None).unwrap()).unwrap();
        let old = file.encrypt(ID, CTX).unwrap();
        let env = format!("prod1:{}", "ab".repeat(32));
        let keys = FieldKeys::load_or_create_with(d.path(), Some(&env)).unwrap();
        assert_eq!(keys.current_id(), "prod1");
        let c = AesGcmCipher::new(&keys).unwrap();
        assert_eq!(c.decrypt(&old, CTX).unwrap(), ID);
        // A bare hex key gets a stable derived id; no field.key is created for it.
        let d2 = tempfile::tempdir().unwrap();
        let bare = "cd".repeat(32);
        let k1 = FieldKeys::load_or_create_with(d2.path(), Some(&bare)).unwrap();
        let k2 = FieldKeys::load_or_create_with(d2.path(), Some(&bare)).unwrap();
        assert_eq!(k1.current_id(), k2.current_id());
        assert!(!d2.path().join(FIELD_KEY_FILE).exists());
        for bad in [
            "abcd",
            "x:zz",
            "bad id:00",
            &format!("{bare},a:{bare},a:{}", "ef".repeat(32)),
        ] {
            assert!(
                FieldKeys::load_or_create_with(d2.path(), Some(bad)).is_err(),
                "{bad}"
            );
        }
    }
}
