//! What may be uploaded for which purpose: visibility, size limit and allowed sniffed types.

/// Rules for one upload purpose.
#[derive(Debug, Clone, Copy)]
pub struct Purpose {
    /// Code sent by the client in the `purpose` field.
    pub code: &'static str,
    /// Chinese name for messages.
    pub label: &'static str,
    /// Public files are served to anyone at `/files/{id}`.
    pub public: bool,
    /// Largest file in bytes.
    pub max_bytes: usize,
    /// Allowed content types, as sniffed from the bytes.
    pub types: &'static [&'static str],
}

const IMAGES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/gif"];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Every purpose the store accepts.
pub const PURPOSES: &[Purpose] = &[
    Purpose {
        code: "avatar",
        label: "头像",
        public: true,
        max_bytes: 2 * 1024 * 1024,
        types: &["image/jpeg", "image/png", "image/webp"],
    },
    Purpose {
        code: "image",
        label: "图片",
        public: true,
        max_bytes: 5 * 1024 * 1024,
        types: IMAGES,
    },
    Purpose {
        code: "attachment",
        label: "佐证材料",
        public: false,
        max_bytes: 10 * 1024 * 1024,
        types: &["image/jpeg", "image/png", "application/pdf"],
    },
    Purpose {
        code: "import",
        label: "导入文件",
        public: false,
        max_bytes: 20 * 1024 * 1024,
        types: &[XLSX],
    },
];

/// Look up a purpose by code.
pub fn purpose(code: &str) -> Option<&'static Purpose> {
    PURPOSES.iter().find(|p| p.code == code)
}

/// Sniff the content type from the bytes; the client's declared type is never trusted.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    let mime = kind.mime_type();
    // infer reports xlsx only when it finds the workbook part inside the zip.
    Some(mime)
}

/// File extension used in storage keys and download names.
pub fn extension(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        XLSX => "xlsx",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_not_name() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
        ];
        assert_eq!(sniff(&png), Some("image/png"));
        assert_eq!(sniff(b"just some text"), None);
        // HTML is recognised but no purpose allows it.
        assert!(PURPOSES.iter().all(|p| !p.types.contains(&"text/html")));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
    }

    #[test]
    fn purposes_are_known() {
        assert!(purpose("avatar").unwrap().public);
        assert!(!purpose("attachment").unwrap().public);
        assert!(purpose("../etc").is_none());
    }
}
