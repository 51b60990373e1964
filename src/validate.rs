//! Small parsers for request fields; each answers a Chinese field error.

use crate::error::{AppError, FieldErrors, Result};

/// Collects field errors so a form reports every problem at once.
#[derive(Default, Debug)]
pub struct Check {
    errors: FieldErrors,
}

impl Check {
    /// Start an empty check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record an error on `field` (the first one per field wins).
    pub fn fail(&mut self, field: &str, msg: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_insert_with(|| msg.into());
    }

    /// A required trimmed text of 1..=max characters.
    pub fn text(&mut self, field: &str, label: &str, v: &str, max: usize) -> String {
        let t = v.trim();
        if t.is_empty() {
            self.fail(field, format!("{label}不能为空"));
        } else if t.chars().count() > max {
            self.fail(field, format!("{label}不能超过 {max} 个字符"));
        } else if t.chars().any(|c| c.is_control()) {
            self.fail(field, format!("{label}含有不允许的字符"));
        }
        t.to_string()
    }

    /// A code of letters, digits, `_` and `-`, 1..=max long.
    pub fn code(&mut self, field: &str, label: &str, v: &str, max: usize) -> String {
        let t = v.trim();
        if t.is_empty()
            || t.len() > max
            || !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.fail(
                field,
                format!("{label}须为 1 到 {max} 位字母、数字、下划线或短横线"),
            );
        }
        t.to_string()
    }

    /// A value that must be one of `allowed`.
    pub fn one_of(&mut self, field: &str, label: &str, v: &str, allowed: &[&str]) {
        if !allowed.contains(&v) {
            self.fail(
                field,
                format!("{label}取值无效，可选：{}", allowed.join("、")),
            );
        }
    }

    /// Finish: `Ok` when no field failed, else `400 validation_failed`.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_all_errors() {
        let mut c = Check::new();
        c.text("name", "名称", "  ", 10);
        c.code("code", "编码", "a b", 10);
        c.one_of("kind", "类型", "x", &["a", "b"]);
        let Err(AppError::Validation(f)) = c.finish() else {
            panic!()
        };
        assert_eq!(f.len(), 3);
        assert!(f["name"].contains("不能为空"));
    }

    #[test]
    fn trims_and_accepts_good_values() {
        let mut c = Check::new();
        assert_eq!(c.text("n", "名称", " 工会 ", 10), "工会");
        c.finish().unwrap();
    }
}
