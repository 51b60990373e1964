//! Where finished archives are kept: the local backup directory or an S3-compatible store
//! (`backup.destination`). An archive is always written and verified in the local directory
//! first; for S3 it is then uploaded in parts, its stored size checked, and the local copy
//! removed. Reading one back (verify again, download, restore) streams it from the store.

use crate::config::{BackupDestination, Config};
use opendal::Operator;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `local` or `s3`, as stored in `backups.destination`.
pub fn code(d: BackupDestination) -> &'static str {
    match d {
        BackupDestination::Local => "local",
        BackupDestination::S3 => "s3",
    }
}

/// An archive store.
#[derive(Clone)]
pub enum Dest {
    /// Archives are files in this directory.
    Local(PathBuf),
    /// Archives are objects named `<prefix><name>` in a bucket.
    S3 {
        /// The bucket.
        op: Operator,
        /// Key prefix, empty or ending in `/`.
        prefix: String,
        /// `bucket/prefix`, for messages.
        label: String,
    },
}

/// One stored archive.
#[derive(Debug, Clone)]
pub struct Stored {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Part size of uploads: a large archive goes up in parts, never held in memory whole.
const PART: usize = 8 * 1024 * 1024;

impl Dest {
    /// The destination `kind` of the installation `cfg` (`local` or `s3`).
    pub fn of(cfg: &Config, kind: BackupDestination) -> anyhow::Result<Dest> {
        Ok(match kind {
            BackupDestination::Local => Dest::Local(cfg.backup_dir()),
            BackupDestination::S3 => {
                opendal::install_default();
                let s = cfg.backup.s3_effective(&cfg.storage);
                if s.endpoint.is_empty() || s.bucket.is_empty() {
                    anyhow::bail!(
                        "未配置备份用的 S3 存储（backup.s3.endpoint 与 backup.s3.bucket，或 storage.*）"
                    );
                }
                let b = opendal::services::S3::default()
                    .endpoint(&s.endpoint)
                    .bucket(&s.bucket)
                    .region(&s.region)
                    .access_key_id(&s.access_key_id)
                    .secret_access_key(&s.secret_access_key)
                    // As for the file store: credentials only from our config.
                    .disable_config_load()
                    .disable_ec2_metadata();
                Dest::S3 {
                    op: Operator::new(b)?,
                    label: format!("s3://{}/{}", s.bucket, s.prefix),
                    prefix: s.prefix,
                }
            }
        })
    }

    /// The configured destination.
    pub fn configured(cfg: &Config) -> anyhow::Result<Dest> {
        Dest::of(cfg, cfg.backup.destination)
    }

    /// `local` or `s3`.
    pub fn code(&self) -> &'static str {
        match self {
            Dest::Local(_) => "local",
            Dest::S3 { .. } => "s3",
        }
    }

    /// Where archives go, for messages.
    pub fn label(&self) -> String {
        match self {
            Dest::Local(d) => d.display().to_string(),
            Dest::S3 { label, .. } => label.clone(),
        }
    }

    /// Move the finished, verified archive `local` (in the backup directory) into this
    /// destination: for S3, upload it in parts, check the stored size, remove the local file.
    /// Returns the archive's name there: another writer (the server and the command line, or
    /// two installations sharing a bucket) may have taken the same second's name, which is
    /// then never overwritten but given a `-N` suffix.
    pub fn store(&self, rt: &tokio::runtime::Handle, local: &Path) -> anyhow::Result<String> {
        let name = file_name(local)?;
        let Dest::S3 { op, prefix, label } = self else {
            return Ok(name);
        };
        let (stem, ext) = match name.strip_suffix(".zip.enc") {
            Some(s) => (s.to_string(), "zip.enc"),
            None => (name.trim_end_matches(".zip").to_string(), "zip"),
        };
        let mut name = name.clone();
        let mut n = 1;
        while rt
            .block_on(op.exists(&format!("{prefix}{name}")))
            .map_err(|e| anyhow::anyhow!("无法访问 {label}: {e}"))?
        {
            n += 1;
            name = format!("{stem}-{n}.{ext}");
        }
        let key = format!("{prefix}{name}");
        let size = std::fs::metadata(local)?.len();
        let up = rt.block_on(async {
            let mut w = op.writer_with(&key).chunk(PART).await?;
            let mut f = tokio::fs::File::open(local)
                .await
                .map_err(|e| opendal::Error::new(opendal::ErrorKind::Unexpected, e.to_string()))?;
            let mut buf = vec![0u8; PART];
            loop {
                use tokio::io::AsyncReadExt;
                let n = f.read(&mut buf).await.map_err(|e| {
                    opendal::Error::new(opendal::ErrorKind::Unexpected, e.to_string())
                })?;
                if n == 0 {
                    break;
                }
                w.write(buf[..n].to_vec()).await?;
            }
            w.close().await?;
            op.stat(&key).await
        });
        let meta = up.map_err(|e| anyhow::anyhow!("上传备份到 {label} 失败: {e}"))?;
        if meta.content_length() != size {
            anyhow::bail!(
                "上传到 {label} 的备份 {name} 大小不符（本地 {size} 字节，存储中 {} 字节）",
                meta.content_length()
            );
        }
        std::fs::remove_file(local)?;
        Ok(name)
    }

    /// Archives in this destination, newest name first.
    pub fn list(&self, rt: &tokio::runtime::Handle) -> anyhow::Result<Vec<Stored>> {
        let mut out = match self {
            Dest::Local(dir) => match std::fs::read_dir(dir) {
                Ok(rd) => rd
                    .flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_str()?.to_string();
                        let meta = e.metadata().ok()?;
                        (super::is_archive_name(&name) && meta.is_file()).then_some(Stored {
                            name,
                            size: meta.len(),
                        })
                    })
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => anyhow::bail!("无法读取备份目录 {}: {e}", dir.display()),
            },
            Dest::S3 { op, prefix, label } => rt
                .block_on(op.list(prefix))
                .map_err(|e| anyhow::anyhow!("无法列出 {label} 中的备份: {e}"))?
                .into_iter()
                .filter_map(|e| {
                    let name = e.path().strip_prefix(prefix.as_str())?.to_string();
                    super::is_archive_name(&name).then(|| Stored {
                        name,
                        size: e.metadata().content_length(),
                    })
                })
                .collect(),
        };
        out.sort_by(|a, b| b.name.cmp(&a.name));
        Ok(out)
    }

    /// A local path of archive `name`: the file itself for a local destination; for S3 a copy
    /// downloaded into `work` (the caller removes it).
    pub fn fetch(
        &self,
        rt: &tokio::runtime::Handle,
        name: &str,
        work: &Path,
    ) -> anyhow::Result<PathBuf> {
        if !super::is_archive_name(name) {
            anyhow::bail!("不是本程序生成的备份文件名: {name}");
        }
        match self {
            Dest::Local(dir) => {
                let p = dir.join(name);
                if !p.is_file() {
                    anyhow::bail!("备份文件 {} 不存在", p.display());
                }
                Ok(p)
            }
            Dest::S3 { op, prefix, label } => {
                let key = format!("{prefix}{name}");
                let to = work.join(name);
                let mut out = std::io::BufWriter::new(std::fs::File::create(&to)?);
                let r = rt.block_on(async {
                    let meta = op.stat(&key).await?;
                    let reader = op.reader_with(&key).chunk(PART).await?;
                    let len = meta.content_length();
                    let mut at = 0u64;
                    while at < len {
                        let end = (at + PART as u64).min(len);
                        let buf = reader.read(at..end).await?;
                        for b in buf {
                            out.write_all(&b).map_err(|e| {
                                opendal::Error::new(opendal::ErrorKind::Unexpected, e.to_string())
                            })?;
                        }
                        at = end;
                    }
                    Ok::<_, opendal::Error>(())
                });
                if let Err(e) = r {
                    let _ = std::fs::remove_file(&to);
                    if e.kind() == opendal::ErrorKind::NotFound {
                        anyhow::bail!("{label} 中没有备份 {name}");
                    }
                    anyhow::bail!("从 {label} 下载备份 {name} 失败: {e}");
                }
                out.flush()?;
                Ok(to)
            }
        }
    }

    /// Remove archive `name` (absent is fine).
    pub async fn remove(&self, name: &str) -> anyhow::Result<()> {
        if !super::is_archive_name(name) {
            return Ok(());
        }
        match self {
            Dest::Local(dir) => match tokio::fs::remove_file(dir.join(name)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
            Dest::S3 { op, prefix, label } => op
                .delete(&format!("{prefix}{name}"))
                .await
                .map_err(|e| anyhow::anyhow!("删除 {label} 中的备份 {name} 失败: {e}")),
        }
    }
}

fn file_name(p: &Path) -> anyhow::Result<String> {
    p.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("备份文件名无效: {}", p.display()))
}
