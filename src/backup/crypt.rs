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

/// The key and the header it goes with.
struct Keyed {
    key: LessSafeKey,
    header: Vec<u8>,
    prefix: [u8; 7],
}

/// Plain bytes kept while the key is still being derived; past this a write waits for it.
const MAX_PENDING: usize = 32 << 20;

/// Encrypts everything written to it into `inner`; call [`Encryptor::finish`] at the end.
///
/// The key is derived on a thread of its own (Argon2id takes a few hundred milliseconds), so
/// a backup compresses its first megabytes meanwhile instead of waiting: plain bytes are kept
/// until the key is there (at most [`MAX_PENDING`]), then the header and their chunks are
/// written. The output is the same as if the key had been there from the start.
pub struct Encryptor<W: Write> {
    inner: W,
    keyed: Option<Keyed>,
    deriving: Option<std::thread::JoinHandle<Result<Keyed, CryptError>>>,
    /// Plain bytes not yet sealed: less than a chunk once keyed.
    buf: Vec<u8>,
    n: u64,
}

fn keyed(passphrase: &str, salt: &[u8], prefix: [u8; 7]) -> Result<Keyed, CryptError> {
    let key = derive(passphrase, salt, M_KIB, PASSES, 1)?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.push(1);
    for v in [M_KIB, PASSES, 1] {
        header.extend_from_slice(&v.to_be_bytes());
    }
    header.extend_from_slice(salt);
    header.extend_from_slice(&prefix);
    header.extend_from_slice(&key_check(&key));
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &key).map_err(|_| CryptError::NotEncrypted)?,
    );
    Ok(Keyed {
        key,
        header,
        prefix,
    })
}

impl<W: Write> Encryptor<W> {
    /// Start deriving a key from `passphrase` with a fresh salt; the header is written once
    /// the key is there.
    pub fn new(inner: W, passphrase: &str) -> Result<Self, CryptError> {
        let salt = crate::crypto::random_bytes(16);
        let mut prefix = [0u8; 7];
        prefix.copy_from_slice(&crate::crypto::random_bytes(7));
        let pass = passphrase.to_string();
        let deriving = std::thread::Builder::new()
            .name("backup-key".into())
            .spawn(move || keyed(&pass, &salt, prefix))?;
        Ok(Encryptor {
            inner,
            keyed: None,
            deriving: Some(deriving),
            buf: Vec::with_capacity(CHUNK),
            n: 0,
        })
    }

    /// Wait for the key when `wait`, or take it when it is ready, and write the header.
    fn key(&mut self, wait: bool) -> Result<bool, CryptError> {
        if self.keyed.is_some() {
            return Ok(true);
        }
        let Some(h) = self.deriving.take_if(|h| wait || h.is_finished()) else {
            return Ok(false);
        };
        let k = h
            .join()
            .map_err(|_| std::io::Error::other("key derivation failed"))??;
        self.inner.write_all(&k.header)?;
        self.keyed = Some(k);
        Ok(true)
    }

    /// Seal every whole chunk of the buffer, as "not last".
    fn seal_whole(&mut self) -> Result<(), CryptError> {
        if self.buf.len() < CHUNK {
            return Ok(());
        }
        let rest = self.buf.len() % CHUNK;
        let whole = self.buf.len() - rest;
        let mut done = 0;
        while done < whole {
            let chunk = self.buf[done..done + CHUNK].to_vec();
            self.seal(chunk, false)?;
            done += CHUNK;
        }
        self.buf.drain(..whole);
        Ok(())
    }

    fn seal(&mut self, mut data: Vec<u8>, last: bool) -> Result<(), CryptError> {
        let k = self
            .keyed
            .as_ref()
            .ok_or_else(|| std::io::Error::other("no key yet"))?;
        let nonce = nonce(&k.prefix, self.n, last)?;
        k.key
            .seal_in_place_append_tag(nonce, Aad::from(&k.header), &mut data)
            .map_err(|_| std::io::Error::other("seal failed"))?;
        self.inner.write_all(&data)?;
        self.n += 1;
        Ok(())
    }

    /// Write the last chunk and hand back the inner writer.
    pub fn finish(mut self) -> Result<W, CryptError> {
        self.key(true)?;
        self.seal_whole()?;
        let rest = std::mem::take(&mut self.buf);
        self.seal(rest, true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            // Whole chunks are sealed as "not last": finish always seals one more (possibly
            // empty) chunk as the last.
            let wait = self.buf.len() >= MAX_PENDING;
            if self.key(wait).map_err(std::io::Error::other)? {
                self.seal_whole().map_err(std::io::Error::other)?;
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

    /// More than [`MAX_PENDING`] in one write: the writer waits for the key, and the output
    /// is what small writes give.
    #[test]
    fn a_large_first_write_waits_for_the_key() {
        let data: Vec<u8> = (0..MAX_PENDING + CHUNK + 3)
            .map(|i| (i % 241) as u8)
            .collect();
        let sealed = seal(&data, "pw");
        assert_eq!(
            sealed.len(),
            HEADER_LEN + data.len() + (data.len() / CHUNK + 1) * TAG
        );
        let mut out = Vec::new();
        decrypt(&sealed[..], &mut out, "pw").unwrap();
        assert!(out == data);
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
