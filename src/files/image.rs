//! Proof that an uploaded image is an image: its header must give sane dimensions and its
//! pixels must decode, under memory limits, one decode at a time.

use crate::error::{AppError, Result};
use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// Longest side accepted, in pixels.
pub const MAX_SIDE: u32 = 10_000;
/// Most pixels accepted (a 40-megapixel photo).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Most memory one decode may allocate.
const MAX_ALLOC: u64 = 192 * 1024 * 1024;

/// Decodes run one at a time, so concurrent uploads cannot add up to unbounded memory.
static DECODES: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(1));

fn format_of(mime: &str) -> Option<ImageFormat> {
    match mime {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/webp" => Some(ImageFormat::WebP),
        "image/gif" => Some(ImageFormat::Gif),
        _ => None,
    }
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

/// Check `bytes` of sniffed type `mime` (non-images pass untouched): dimensions from the
/// header first (absurd sizes refused before any pixel is decoded), then a full decode.
/// Returns the width and height of an image.
pub fn check_blocking(bytes: &[u8], mime: &str) -> Result<Option<(u32, u32)>> {
    let Some(fmt) = format_of(mime) else {
        return Ok(None);
    };
    let broken = || AppError::field("file", "图片文件已损坏或不是有效的图片，请重新选择");
    let mut r = ImageReader::with_format(Cursor::new(bytes), fmt);
    r.limits(limits());
    let (w, h) = r.into_dimensions().map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(),
        _ => broken(),
    })?;
    if w == 0 || h == 0 {
        return Err(broken());
    }
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(too_large());
    }
    let mut r = ImageReader::with_format(Cursor::new(bytes), fmt);
    r.limits(limits());
    r.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(),
        _ => broken(),
    })?;
    Ok(Some((w, h)))
}

fn too_large() -> AppError {
    AppError::field(
        "file",
        format!("图片尺寸过大，长宽均不能超过 {MAX_SIDE} 像素，总像素不能超过 4000 万"),
    )
}

/// [`check_blocking`] off the async executor, one decode at a time.
pub async fn check(bytes: bytes::Bytes, mime: &'static str) -> Result<Option<(u32, u32)>> {
    if format_of(mime).is_none() {
        return Ok(None);
    }
    let permit = DECODES.acquire().await.map_err(AppError::internal)?;
    // The permit lives in the blocking task: a client that hangs up cannot free it early.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        check_blocking(&bytes, mime)
    })
    .await
    .map_err(AppError::internal)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::new(w, h);
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    /// A real image passes with its size; a truncated one and a lying header are refused.
    #[test]
    fn only_decodable_images_of_sane_size_pass() {
        let ok = png(3, 2);
        assert_eq!(check_blocking(&ok, "image/png").unwrap(), Some((3, 2)));
        let cut = &ok[..ok.len() - 20];
        assert!(check_blocking(cut, "image/png").is_err());
        // A PNG header claiming 100000 × 100000 pixels is refused before any decoding.
        let mut huge = ok.clone();
        huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32fast::hash(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        let Err(AppError::Validation(f)) = check_blocking(&huge, "image/png") else {
            panic!("huge header accepted")
        };
        assert!(f["file"].contains("尺寸过大"), "{f:?}");
        assert_eq!(
            check_blocking(b"%PDF-1.4", "application/pdf").unwrap(),
            None
        );
    }
}
