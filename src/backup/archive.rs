//! Writing an archive: a zip (stream mode, so it can be encrypted on the fly) of the database
//! snapshot, the file store objects it refers to, the key files when encrypted and the erasure
//! journal, with the manifest last. Written to `<name>.partial` and renamed when complete, so
//! a crash never leaves a file that looks like a finished backup.

use super::crypt::Encryptor;
use super::manifest::{self, Entry, Hasher, Manifest};
use super::snapshot::Snapshot;
use super::writeback::Streaming;
use opendal::Operator;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use zip::ZipWriter;
use zip::write::{SimpleFileOptions, StreamWriter};

/// What goes into an archive.
pub struct Source<'a> {
    /// The database snapshot; its read transaction ends once its pages are written.
    pub db: Snapshot,
    /// Key files to include (encrypted archives only).
    pub keys_dir: Option<&'a Path>,
    /// The erasure journal, when there is one.
    pub erasures: Option<&'a Path>,
    /// Objects to copy from the store: storage key and recorded sha256.
    pub objects: Vec<(String, String)>,
    /// The file store.
    pub store: &'a Operator,
    /// Runtime to drive the store's async reads from this blocking thread.
    pub rt: &'a tokio::runtime::Handle,
}

enum Sink {
    Plain(BufWriter<Streaming>),
    /// Unbuffered below the encryptor: it writes whole sealed chunks.
    Sealed(Box<Encryptor<Streaming>>),
}

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(b),
            Sink::Sealed(w) => w.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Sealed(w) => w.flush(),
        }
    }
}

/// Options of an entry at `backup.compression_level` (0: stored).
fn options(level: i32) -> SimpleFileOptions {
    // Zstandard: on a 1M-member database (739 MiB) deflate at its fastest level took about
    // 7 s on one core and was most of a backup's time; zstd compresses as well several times
    // faster, and unpacks faster for the verification that follows. Archives written with
    // deflate by earlier versions are still read. Large-file (zip64) headers so a database
    // over 4 GiB is fine.
    if level == 0 {
        return stored();
    }
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Zstd)
        .compression_level(Some(level as i64))
        .large_file(true)
}

/// Options of a stored entry: the database (its content is already a Zstandard stream when a
/// level is set), and every entry at level 0.
fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true)
}

/// Most Zstandard workers a backup uses.
const ZSTD_WORKERS: usize = 4;

fn zstd_workers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(ZSTD_WORKERS) as u32
}

struct Writer {
    zip: ZipWriter<StreamWriter<Sink>>,
    entries: Vec<Entry>,
    /// Zstandard level (`backup.compression_level`).
    level: i32,
}

/// Passes bytes on to the archive entry, hashing and counting them.
struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    hasher: Hasher,
    size: u64,
}

impl<'a, W: Write> Hashing<'a, W> {
    fn new(inner: &'a mut W, hasher: Hasher) -> Self {
        Hashing {
            inner,
            hasher,
            size: 0,
        }
    }

    /// The manifest entry of what passed, under `path`.
    fn entry(self, path: &str) -> Entry {
        self.hasher.entry(path, self.size)
    }
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.inner.write_all(b)?;
        self.hasher.update(b);
        self.size += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Write every page of `snap` to `out`, hashed with XXH3-128: the manifest entry of the database.
/// The snapshot's read transaction ends here, when `snap` is dropped.
fn hash_pages(snap: Snapshot, out: &mut impl Write) -> anyhow::Result<Entry> {
    let mut h = Hashing::new(out, Hasher::xxh3());
    snap.write_pages(&mut h)?;
    Ok(h.entry(manifest::DB))
}

impl Writer {
    /// Add entry `path` with the bytes `fill` writes, recording their size and SHA-256.
    fn add_with(
        &mut self,
        path: &str,
        fill: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.zip.start_file(path, options(self.level))?;
        let mut h = Hashing::new(&mut self.zip, Hasher::sha256());
        fill(&mut h)?;
        self.entries.push(h.entry(path));
        Ok(())
    }

    /// Add the database's pages: this thread reads them through SQLite, hashes them with
    /// XXH3-128 and writes them (encrypting when the archive is encrypted), as the stored entry
    /// [`manifest::DB`] (level 0), or through Zstandard as [`manifest::DB_ZST`], compressed on
    /// as many workers as there are cores (up to [`ZSTD_WORKERS`]). The snapshot's read
    /// transaction ends when its last page is read, so checkpoints go on while the file store
    /// is copied. The manifest records the size and XXH3-128 of the database itself, under
    /// [`manifest::DB`].
    fn add_database(&mut self, snap: Snapshot) -> anyhow::Result<()> {
        let level = self.level;
        let compressed = level != 0;
        let name = if compressed {
            manifest::DB_ZST
        } else {
            manifest::DB
        };
        self.zip.start_file(name, stored())?;
        let zip = &mut self.zip;
        let entry = if compressed {
            let mut z = zstd::stream::write::Encoder::new(zip, level)?;
            z.multithread(zstd_workers())?;
            let entry = hash_pages(snap, &mut z)?;
            z.finish()?;
            entry
        } else {
            hash_pages(snap, zip)?
        };
        self.entries.push(entry);
        Ok(())
    }

    fn add(&mut self, path: &str, mut src: impl Read) -> anyhow::Result<()> {
        self.add_with(path, |out| {
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = src.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                out.write_all(&buf[..n])?;
            }
        })
    }
}

/// Write the archive to `out` (encrypted when `passphrase` is set, compressed at Zstandard
/// `level`) and return the manifest stored in it, and the seconds the database pages took
/// (the snapshot's read transaction). `m` carries the counts and versions; entries are
/// filled in here.
pub fn write(
    out: &Path,
    passphrase: Option<&str>,
    level: i32,
    src: Source<'_>,
    mut m: Manifest,
) -> anyhow::Result<(Manifest, f64)> {
    let partial = partial_path(out);
    let file = File::create(&partial)?;
    let result = (|| -> anyhow::Result<(Manifest, f64)> {
        let file = Streaming::new(file);
        let sink = match passphrase {
            Some(p) => Sink::Sealed(Box::new(Encryptor::new(file, p)?)),
            None => Sink::Plain(BufWriter::with_capacity(1 << 20, file)),
        };
        let mut w = Writer {
            zip: ZipWriter::new_stream(sink),
            entries: Vec::new(),
            level,
        };
        let t = std::time::Instant::now();
        w.add_database(src.db)?;
        let db_secs = t.elapsed().as_secs_f64();
        for (key, sha) in &src.objects {
            if !manifest::safe_path(key) {
                anyhow::bail!("文件存储键 {key} 不能作为归档路径");
            }
            match src.rt.block_on(src.store.read(key)) {
                Ok(buf) => {
                    let bytes = buf.to_bytes();
                    if crate::crypto::sha256_hex(&bytes) != *sha {
                        anyhow::bail!(
                            "文件 {key} 的内容与数据库记录的校验和不符（存储中的文件已损坏）"
                        );
                    }
                    w.add(&format!("{}{key}", manifest::FILES), &bytes[..])?;
                }
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                    m.missing_objects.push(key.clone())
                }
                Err(e) => anyhow::bail!("读取文件 {key} 失败: {e}"),
            }
        }
        // No key files yet (a database migrated but never served): nothing to carry.
        if let Some(dir) = src.keys_dir.filter(|d| d.is_dir()) {
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "key"))
                .collect();
            names.sort();
            for p in names {
                let name = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                w.add(&format!("{}{name}", manifest::KEYS), File::open(&p)?)?;
            }
            m.keys_included = true;
        }
        if let Some(p) = src.erasures.filter(|p| p.exists()) {
            w.add(manifest::ERASURES, File::open(p)?)?;
        }
        m.entries = std::mem::take(&mut w.entries);
        m.encrypted = passphrase.is_some();
        w.zip.start_file(manifest::NAME, options(level))?;
        w.zip.write_all(&serde_json::to_vec_pretty(&m)?)?;
        let sink = w.zip.finish()?.into_inner();
        let file = match sink {
            Sink::Plain(f) => f.into_inner().map_err(|e| e.into_error())?,
            Sink::Sealed(e) => e.finish()?,
        }
        .into_inner();
        file.sync_all()?;
        Ok((m, db_secs))
    })();
    match result {
        Ok(m) => {
            std::fs::rename(&partial, out)?;
            Ok(m)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// `<out>.partial`.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}
