//! Passphrase encryption of a whole archive, streamed in chunks.
//!
//! Format (all integers big-endian):
//! `GHBACKUP` magic (8 bytes), version 1 (1 byte), Argon2id memory KiB, passes and lanes
//! (3 × u32), salt (16 bytes), nonce prefix (7 bytes), key check (16 bytes), then chunks of
//! at most [`CHUNK`] plain bytes, each `AES-256-GCM(plain) || tag` under the nonce
//! `prefix || chunk number (u32) || last flag (1 byte)` with the header as associated data.
//! The last flag makes a truncated file an error rather than a shorter archive; the key check
//! (HMAC of a constant under the derived key) tells a wrong passphrase from a damaged file
//! before any chunk is read. The passphrase is stretched with Argon2id, so guessing costs
//! each attempt 64 MiB and a few hundred milliseconds.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;
use std::io::{Read, Write};

/// Plain bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
const MAGIC: &[u8; 8] = b"GHBACKUP";
const HEADER_LEN: usize = 8 + 1 + 12 + 16 + 7 + 16;
const TAG: usize = 16;
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

/// Encrypts everything written to it into `inner`; call [`Encryptor::finish`] at the end.
pub struct Encryptor<W: Write> {
    inner: W,
    key: LessSafeKey,
    header: Vec<u8>,
    prefix: [u8; 7],
    buf: Vec<u8>,
    n: u64,
}

impl<W: Write> Encryptor<W> {
    /// Derive a key from `passphrase` with a fresh salt and write the header.
    pub fn new(mut inner: W, passphrase: &str) -> Result<Self, CryptError> {
        let salt = crate::crypto::random_bytes(16);
        let mut prefix = [0u8; 7];
        prefix.copy_from_slice(&crate::crypto::random_bytes(7));
        let key = derive(passphrase, &salt, M_KIB, PASSES, 1)?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(1);
        for v in [M_KIB, PASSES, 1] {
            header.extend_from_slice(&v.to_be_bytes());
        }
        header.extend_from_slice(&salt);
        header.extend_from_slice(&prefix);
        header.extend_from_slice(&key_check(&key));
        inner.write_all(&header)?;
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &key).map_err(|_| CryptError::NotEncrypted)?,
        );
        Ok(Encryptor {
            inner,
            key,
            header,
            prefix,
            buf: Vec::with_capacity(CHUNK),
            n: 0,
        })
    }

    fn seal(&mut self, last: bool) -> Result<(), CryptError> {
        let mut data = std::mem::take(&mut self.buf);
        let nonce = nonce(&self.prefix, self.n, last)?;
        self.key
            .seal_in_place_append_tag(nonce, Aad::from(&self.header), &mut data)
            .map_err(|_| std::io::Error::other("seal failed"))?;
        self.inner.write_all(&data)?;
        self.n += 1;
        data.clear();
        self.buf = data;
        Ok(())
    }

    /// Write the last chunk and hand back the inner writer.
    pub fn finish(mut self) -> Result<W, CryptError> {
        self.seal(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let take = room.min(data.len());
        self.buf.extend_from_slice(&data[..take]);
        if self.buf.len() == CHUNK {
            // A full chunk is sealed as "not last" only once more data arrives or finish is
            // called; sealing it here as not-last is right because finish always seals one
            // more (possibly empty) chunk.
            self.seal(false).map_err(std::io::Error::other)?;
        }
        Ok(take)
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
    if read_full(&mut src, &mut header)? < HEADER_LEN || !is_encrypted(&header) || header[8] != 1 {
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
    prefix.copy_from_slice(&header[37..44]);
    let key = derive(passphrase, salt, m, t, p)?;
    // Compared without an early exit, so the time taken says nothing about the stored check.
    let diff = key_check(&key)
        .iter()
        .zip(&header[44..60])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(CryptError::WrongPassphrase);
    }
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &key).map_err(|_| CryptError::NotEncrypted)?,
    );
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
                Aad::from(&header[..]),
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
        let mut e = Encryptor::new(Vec::new(), pw).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trip_across_chunk_boundaries() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&data, "口令 pass");
            let mut out = Vec::new();
            assert_eq!(
                decrypt(&sealed[..], &mut out, "口令 pass").unwrap(),
                len as u64
            );
            assert_eq!(out, data, "len {len}");
        }
    }

    #[test]
    fn wrong_passphrase_damage_and_truncation_are_told_apart() {
        let data = vec![7u8; 2 * CHUNK + 10];
        let sealed = seal(&data, "right");
        assert!(matches!(
            decrypt(&sealed[..], Vec::new(), "wrong"),
            Err(CryptError::WrongPassphrase)
        ));
        let mut bad = sealed.clone();
        bad[HEADER_LEN + 5] ^= 1;
        assert!(matches!(
            decrypt(&bad[..], Vec::new(), "right"),
            Err(CryptError::Corrupt(1))
        ));
        // Cut exactly after the first full chunk: the rest must not pass as a whole archive.
        let cut = &sealed[..HEADER_LEN + CHUNK + TAG];
        assert!(matches!(
            decrypt(cut, Vec::new(), "right"),
            Err(CryptError::Truncated(1))
        ));
        assert!(matches!(
            decrypt(&b"PK\x03\x04"[..], Vec::new(), "right"),
            Err(CryptError::NotEncrypted)
        ));
    }
}
