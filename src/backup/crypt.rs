//! Passphrase encryption of a whole archive, streamed in chunks.
//!
//! Format 2 (written since 2026-12-07; all integers big-endian): `GHBACKUP` magic (8 bytes),
//! version 2 (1 byte), Argon2id memory KiB, passes and lanes (3 × u32), salt (16 bytes),
//! nonce prefix (7 bytes) — the fixed part, 44 bytes — then the key check (16 bytes) and the
//! wrapped data key (48 bytes), then chunks of at most [`CHUNK`] plain bytes, each
//! `AES-256-GCM(plain) || tag` under a random per-archive data key, the nonce
//! `prefix || chunk number (u32) || last flag (1 byte)` and the fixed part as associated data.
//! The data key is wrapped (AES-256-GCM, the fixed part and key check as associated data)
//! under the key derived from the passphrase. So a backup encrypts from its first byte while
//! the passphrase is still being stretched, and the key check and wrapped key are written
//! into their place in the header at the end.
//!
//! Format 1 (read only): the same fixed part with version 1, the key check, and chunks sealed
//! directly under the derived key with the whole 60-byte header as associated data.
//!
//! The last flag makes a truncated file an error rather than a shorter archive; the key check
//! (HMAC of a constant under the derived key) tells a wrong passphrase from a damaged file
//! before any chunk is read. The passphrase is stretched with Argon2id, so guessing costs
//! each attempt 64 MiB and a few hundred milliseconds.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;
use std::io::{Read, Seek, SeekFrom, Write};

/// Plain bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
const MAGIC: &[u8; 8] = b"GHBACKUP";
/// Magic, version, Argon2id parameters, salt and nonce prefix.
const FIXED_LEN: usize = 8 + 1 + 12 + 16 + 7;
/// Format 1 header: the fixed part and the key check.
const HEADER_V1_LEN: usize = FIXED_LEN + 16;
const TAG: usize = 16;
/// The data key wrapped: 32 bytes and a tag.
const WRAPPED_LEN: usize = 32 + TAG;
/// Format 2 header: the fixed part, the key check and the wrapped data key.
const HEADER_LEN: usize = HEADER_V1_LEN + WRAPPED_LEN;
/// Nonce of the data key's wrapping; the wrapping key is used once (a fresh salt per archive).
const WRAP_NONCE: [u8; 12] = *b"gh-data-key\0";
const M_KIB: u32 = 64 * 1024;
const PASSES: u32 = 3;

/// Why an encrypted archive could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    /// Not an encrypted gonghui archive.
    #[error("不是加密的 gonghui 备份文件")]
    NotEncrypted,
    /// The passphrase does not match the one the archive was made with.
    #[error("备份口令不正确")]
    WrongPassphrase,
    /// A chunk failed authentication: the file was changed or damaged.
    #[error("备份文件已损坏：第 {0} 个数据块校验失败（文件被改动或损坏）")]
    Corrupt(u64),
    /// The wrapped data key in the header failed authentication.
    #[error("备份文件头已损坏（数据密钥校验失败）")]
    HeaderDamaged,
    /// The file ends before its last chunk.
    #[error("备份文件不完整（在第 {0} 个数据块处被截断）")]
    Truncated(u64),
    /// Reading or writing failed.
    #[error("读写失败: {0}")]
    Io(#[from] std::io::Error),
}

/// True when `head` (the first bytes of a file) starts like an encrypted archive.
pub fn is_encrypted(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

fn derive(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<[u8; 32], CryptError> {
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(m, t, p, Some(32)).map_err(|_| CryptError::NotEncrypted)?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|_| CryptError::NotEncrypted)?;
    Ok(key)
}

fn key_check(key: &[u8; 32]) -> [u8; 16] {
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key),
        b"gonghui backup key check",
    );
    let mut out = [0u8; 16];
    out.copy_from_slice(&tag.as_ref()[..16]);
    out
}

fn nonce(prefix: &[u8; 7], n: u64, last: bool) -> Result<Nonce, CryptError> {
    // 2^32 chunks of 64 KiB are 256 TiB: far beyond any archive, but refuse rather than wrap.
    let n = u32::try_from(n).map_err(|_| std::io::Error::other("archive too large"))?;
    let mut b = [0u8; 12];
    b[..7].copy_from_slice(prefix);
    b[7..11].copy_from_slice(&n.to_be_bytes());
    b[11] = u8::from(last);
    Ok(Nonce::assume_unique_for_key(b))
}

/// The header's fixed part: magic, `version`, Argon2id memory KiB, passes and lanes, salt and
/// nonce prefix.
fn fixed_part(version: u8, kdf: [u32; 3], salt: &[u8], prefix: &[u8; 7]) -> Vec<u8> {
    let mut fixed = Vec::with_capacity(FIXED_LEN);
    fixed.extend_from_slice(MAGIC);
    fixed.push(version);
    for v in kdf {
        fixed.extend_from_slice(&v.to_be_bytes());
    }
    fixed.extend_from_slice(salt);
    fixed.extend_from_slice(prefix);
    fixed
}

fn aes_key(bytes: &[u8]) -> Result<LessSafeKey, CryptError> {
    Ok(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptError::NotEncrypted)?,
    ))
}

/// The key check and the wrapped data key: the header's last 64 bytes, computed once the
/// passphrase is stretched.
fn seal_data_key(
    passphrase: &str,
    fixed: &[u8],
    data_key: &[u8; 32],
) -> Result<Vec<u8>, CryptError> {
    let kek = derive(passphrase, &fixed[21..37], M_KIB, PASSES, 1)?;
    let mut tail = key_check(&kek).to_vec();
    let mut aad = fixed.to_vec();
    aad.extend_from_slice(&tail);
    let mut wrapped = data_key.to_vec();
    aes_key(&kek)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(WRAP_NONCE),
            Aad::from(&aad),
            &mut wrapped,
        )
        .map_err(|_| std::io::Error::other("seal failed"))?;
    tail.extend_from_slice(&wrapped);
    Ok(tail)
}

/// Encrypts everything written to it into `inner`; call [`Encryptor::finish`] at the end.
///
/// Chunks are sealed under a random data key from the first byte, while the passphrase is
/// stretched on a thread of its own (Argon2id takes a few hundred milliseconds of a core);
/// [`Encryptor::finish`] writes the key check and the wrapped data key into the header.
pub struct Encryptor<W: Write + Seek> {
    inner: W,
    key: LessSafeKey,
    /// The header's fixed part: the chunks' associated data.
    fixed: Vec<u8>,
    prefix: [u8; 7],
    /// Stretching the passphrase and wrapping the data key.
    sealing: std::thread::JoinHandle<Result<Vec<u8>, CryptError>>,
    /// The chunk being filled, sealed in place (the tag appended) once it holds [`CHUNK`]
    /// bytes; capacity for the tag, so sealing never reallocates.
    buf: Vec<u8>,
    /// Chunks written so far.
    n: u64,
}

impl<W: Write + Seek> Encryptor<W> {
    /// Start an encrypted archive in `inner` (at its start) under `passphrase`.
    pub fn new(mut inner: W, passphrase: &str) -> Result<Self, CryptError> {
        let mut prefix = [0u8; 7];
        prefix.copy_from_slice(&crate::crypto::random_bytes(7));
        let salt = crate::crypto::random_bytes(16);
        let fixed = fixed_part(2, [M_KIB, PASSES, 1], &salt, &prefix);
        let mut data_key = [0u8; 32];
        data_key.copy_from_slice(&crate::crypto::random_bytes(32));
        let key = aes_key(&data_key)?;
        let (pass, f) = (passphrase.to_string(), fixed.clone());
        let sealing = std::thread::Builder::new()
            .name("backup-key".into())
            .spawn(move || seal_data_key(&pass, &f, &data_key))?;
        inner.write_all(&fixed)?;
        // Filled in by `finish`.
        inner.write_all(&[0u8; HEADER_LEN - FIXED_LEN])?;
        Ok(Encryptor {
            inner,
            key,
            fixed,
            prefix,
            sealing,
            buf: Vec::with_capacity(CHUNK + TAG),
            n: 0,
        })
    }

    /// Seal the buffer in place, write it, and start the next chunk.
    fn seal(&mut self, last: bool) -> Result<(), CryptError> {
        let nonce = nonce(&self.prefix, self.n, last)?;
        self.key
            .seal_in_place_append_tag(nonce, Aad::from(&self.fixed), &mut self.buf)
            .map_err(|_| std::io::Error::other("seal failed"))?;
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        self.n += 1;
        Ok(())
    }

    /// Write the last chunk, the key check and the wrapped data key, and hand back the inner
    /// writer (positioned at its end).
    pub fn finish(mut self) -> Result<W, CryptError> {
        self.seal(true)?;
        let tail = self
            .sealing
            .join()
            .map_err(|_| std::io::Error::other("key derivation failed"))??;
        let end = self.inner.stream_position()?;
        self.inner.seek(SeekFrom::Start(FIXED_LEN as u64))?;
        self.inner.write_all(&tail)?;
        self.inner.seek(SeekFrom::Start(end))?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write + Seek> Write for Encryptor<W> {
    /// Each full chunk is sealed as "not last" and written at once: `finish` always seals one
    /// more, possibly empty, chunk as the last.
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            let n = (CHUNK - self.buf.len()).min(rest.len());
            self.buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.buf.len() == CHUNK {
                self.seal(false).map_err(std::io::Error::other)?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypt `src` into `dst`. Errors name what is wrong: passphrase, damage, truncation.
pub fn decrypt(
    mut src: impl Read,
    mut dst: impl Write,
    passphrase: &str,
) -> Result<u64, CryptError> {
    let mut header = [0u8; HEADER_LEN];
    if read_full(&mut src, &mut header[..HEADER_V1_LEN])? < HEADER_V1_LEN || !is_encrypted(&header)
    {
        return Err(CryptError::NotEncrypted);
    }
    let version = header[8];
    if version == 2 && read_full(&mut src, &mut header[HEADER_V1_LEN..])? < WRAPPED_LEN {
        return Err(CryptError::HeaderDamaged);
    }
    if !(1..=2).contains(&version) {
        return Err(CryptError::NotEncrypted);
    }
    let u = |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (m, t, p) = (u(9), u(13), u(17));
    // Bounds keep a forged header from asking for gigabytes of memory.
    if !(8..=1024 * 1024).contains(&m) || !(1..=16).contains(&t) || !(1..=8).contains(&p) {
        return Err(CryptError::NotEncrypted);
    }
    let salt = &header[21..37];
    let mut prefix = [0u8; 7];
    prefix.copy_from_slice(&header[37..FIXED_LEN]);
    let kek = derive(passphrase, salt, m, t, p)?;
    // Compared without an early exit, so the time taken says nothing about the stored check.
    let diff = key_check(&kek)
        .iter()
        .zip(&header[FIXED_LEN..HEADER_V1_LEN])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(CryptError::WrongPassphrase);
    }
    let (key, aad) = if version == 1 {
        (aes_key(&kek)?, &header[..HEADER_V1_LEN])
    } else {
        let mut wrapped = header[HEADER_V1_LEN..].to_vec();
        let data_key = aes_key(&kek)?
            .open_in_place(
                Nonce::assume_unique_for_key(WRAP_NONCE),
                Aad::from(&header[..HEADER_V1_LEN]),
                &mut wrapped,
            )
            .map_err(|_| CryptError::HeaderDamaged)?;
        (aes_key(data_key)?, &header[..FIXED_LEN])
    };
    // Read one chunk ahead: a chunk is the last one exactly when nothing follows it.
    let mut cur = vec![0u8; CHUNK + TAG];
    let mut next = vec![0u8; CHUNK + TAG];
    let mut cur_len = read_full(&mut src, &mut cur)?;
    let (mut n, mut total) = (0u64, 0u64);
    loop {
        if cur_len < TAG {
            return Err(CryptError::Truncated(n + 1));
        }
        let next_len = if cur_len == CHUNK + TAG {
            read_full(&mut src, &mut next)?
        } else {
            0
        };
        let last = next_len == 0;
        let plain = key
            .open_in_place(
                nonce(&prefix, n, last)?,
                Aad::from(aad),
                &mut cur[..cur_len],
            )
            .map_err(|_| {
                if last {
                    CryptError::Truncated(n + 1)
                } else {
                    CryptError::Corrupt(n + 1)
                }
            })?;
        dst.write_all(plain)?;
        total += plain.len() as u64;
        if last {
            break;
        }
        std::mem::swap(&mut cur, &mut next);
        cur_len = next_len;
        n += 1;
    }
    dst.flush()?;
    Ok(total)
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            k => got += k,
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(data: &[u8], pw: &str) -> Vec<u8> {
        let mut e = Encryptor::new(std::io::Cursor::new(Vec::new()), pw).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap().into_inner()
    }

    /// Why `sealed` does not decrypt under `pw`.
    fn refusal(sealed: &[u8], pw: &str) -> CryptError {
        decrypt(sealed, Vec::new(), pw).expect_err("decrypts")
    }

    /// A format 1 archive, as versions before 2026-12-07 wrote them.
    fn seal_v1(data: &[u8], pw: &str) -> Vec<u8> {
        let (salt, prefix) = ([3u8; 16], [9u8; 7]);
        let kek = derive(pw, &salt, 1024, 1, 1).unwrap();
        let mut out = fixed_part(1, [1024, 1, 1], &salt, &prefix);
        out.extend_from_slice(&key_check(&kek));
        let header = out.clone();
        let key = aes_key(&kek).unwrap();
        // Whole chunks, then the rest (possibly empty) as the last one.
        let whole = data.len() / CHUNK * CHUNK;
        let chunks: Vec<&[u8]> = data[..whole]
            .chunks(CHUNK)
            .chain([&data[whole..]])
            .collect();
        for (i, c) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let mut b = c.to_vec();
            key.seal_in_place_append_tag(
                nonce(&prefix, i as u64, last).unwrap(),
                Aad::from(&header),
                &mut b,
            )
            .unwrap();
            out.extend_from_slice(&b);
        }
        out
    }

    #[test]
    fn round_trip_across_chunk_boundaries() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&data, "口令 pass");
            assert_eq!(sealed.len(), HEADER_LEN + len + (len / CHUNK + 1) * TAG);
            let mut out = Vec::new();
            assert_eq!(
                decrypt(&sealed[..], &mut out, "口令 pass").unwrap(),
                len as u64
            );
            assert_eq!(out, data, "len {len}");
        }
    }

    /// Archives written before the data key (format 1) still decrypt.
    #[test]
    fn format_1_archives_still_decrypt() {
        let data: Vec<u8> = (0..2 * CHUNK + 5).map(|i| (i % 239) as u8).collect();
        let sealed = seal_v1(&data, "旧口令");
        let mut out = Vec::new();
        decrypt(&sealed[..], &mut out, "旧口令").unwrap();
        assert!(out == data);
        assert!(matches!(
            refusal(&sealed[..], "wrong"),
            CryptError::WrongPassphrase
        ));
    }

    /// The header's key check and wrapped data key are written last: changing either is
    /// caught before any chunk.
    #[test]
    fn a_damaged_key_check_or_wrapped_key_is_refused() {
        let sealed = seal(&[5u8; 1000], "pw");
        let mut bad = sealed.clone();
        bad[FIXED_LEN + 2] ^= 1;
        assert!(matches!(
            refusal(&bad[..], "pw"),
            CryptError::WrongPassphrase
        ));
        let mut bad = sealed.clone();
        bad[HEADER_V1_LEN + 7] ^= 1;
        assert!(matches!(refusal(&bad[..], "pw"), CryptError::HeaderDamaged));
        let mut bad = sealed;
        bad[8] = 3;
        assert!(matches!(refusal(&bad[..], "pw"), CryptError::NotEncrypted));
    }

    #[test]
    fn wrong_passphrase_damage_and_truncation_are_told_apart() {
        let data = vec![7u8; 2 * CHUNK + 10];
        let sealed = seal(&data, "right");
        assert!(matches!(
            refusal(&sealed[..], "wrong"),
            CryptError::WrongPassphrase
        ));
        let mut bad = sealed.clone();
        bad[HEADER_LEN + 5] ^= 1;
        assert!(matches!(refusal(&bad[..], "right"), CryptError::Corrupt(1)));
        // Cut exactly after the first full chunk: the rest must not pass as a whole archive.
        let cut = &sealed[..HEADER_LEN + CHUNK + TAG];
        assert!(matches!(refusal(cut, "right"), CryptError::Truncated(1)));
        assert!(matches!(
            refusal(&b"PK\x03\x04"[..], "right"),
            CryptError::NotEncrypted
        ));
    }
}
