//! The file store: an opendal operator over a local directory (default `data/files`) or any
//! S3-compatible object store, chosen by configuration.

use crate::config::{Config, StorageKind};
use opendal::Operator;

/// Build the operator the configuration asks for.
pub fn operator(cfg: &Config) -> anyhow::Result<Operator> {
    // Registers services and the reqwest HTTP transport S3 needs (auto-registration is off).
    opendal::install_default();
    let s = &cfg.storage;
    let op = match s.kind {
        StorageKind::Fs => {
            let dir = cfg.files_dir();
            crate::config::ensure_dir(&dir)?;
            let root = dir.canonicalize()?;
            // Written aside and renamed into place: an upload cut short by a crash or a full
            // disk never leaves a partial file under its key, only a temp file swept here.
            match crate::disk::sweep_upload_temp(&root) {
                Ok(0) => {}
                Ok(n) => tracing::info!(files = n, "removed interrupted uploads"),
                Err(e) => tracing::warn!(error = %e, "cannot sweep interrupted uploads"),
            }
            let partial = crate::disk::upload_temp_dir(&root);
            Operator::new(
                opendal::services::Fs::default()
                    .root(&root.to_string_lossy())
                    .atomic_write_dir(&partial.to_string_lossy()),
            )?
        }
        StorageKind::S3 => {
            let b = opendal::services::S3::default()
                .endpoint(&s.endpoint)
                .bucket(&s.bucket)
                .region(&s.region)
                .access_key_id(&s.access_key_id)
                .secret_access_key(&s.secret_access_key)
                // Offline servers: never look for credentials in the environment or at the
                // cloud metadata endpoint, only in our config.
                .disable_config_load()
                .disable_ec2_metadata();
            Operator::new(b)?
        }
    };
    Ok(op)
}
