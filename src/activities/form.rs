//! Registration form definitions and server-side validation of answers against them.

use crate::crypto::field::FieldCipher;
use crate::crypto::mask;
use crate::error::{AppError, FieldErrors, Result};
use crate::members::idcard::IdNumber;
use crate::validate::Check;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Field types a form may use.
pub const FIELD_TYPES: &[&str] = &[
    "text",
    "textarea",
    "number",
    "phone",
    "id_number",
    "date",
    "select",
    "multiselect",
    "image",
];
/// Associated data for encrypted ID-number answers.
pub const AAD_ANSWER_ID: &str = "activity.answer.id_number";
/// Associated data for encrypted phone answers.
pub const AAD_ANSWER_PHONE: &str = "activity.answer.phone";

/// The associated data of a field type whose answers are personal data kept encrypted (clear
/// value in `answers_enc`, masked value in `answers`), or `None` for a type stored as given.
/// The one list of such types: validation, reveal and the upgrade of old rows all read it.
pub fn sealed_aad(kind: &str) -> Option<&'static str> {
    match kind {
        "id_number" => Some(AAD_ANSWER_ID),
        "phone" => Some(AAD_ANSWER_PHONE),
        _ => None,
    }
}

/// The masked display form of a sealed answer of type `kind`.
pub fn mask_sealed(kind: &str, clear: &str) -> String {
    match kind {
        "phone" => mask::mask_phone(clear),
        _ => mask::mask_id_number(clear),
    }
}

/// Put the clear values of the sealed answers (`enc`, by key) into `answers` in place of
/// their masked forms; returns how many were revealed. Undecryptable values stay masked.
pub fn reveal_sealed(
    fields: &[FieldDef],
    answers: &mut Map<String, Value>,
    enc: &Map<String, Value>,
    cipher: &dyn FieldCipher,
) -> usize {
    let mut n = 0;
    for f in fields {
        let (Some(aad), Some(ct)) = (sealed_aad(&f.kind), enc.get(&f.key).and_then(Value::as_str))
        else {
            continue;
        };
        match cipher.decrypt(ct, aad) {
            Ok(v) => {
                answers.insert(f.key.clone(), Value::String(v));
                n += 1;
            }
            // Logged without the value; the masked form stays.
            Err(e) => tracing::warn!(field = %f.key, error = %e, "cannot decrypt a sealed answer"),
        }
    }
    n
}
/// Most fields in one form.
pub const MAX_FIELDS: usize = 50;

/// One field of a registration form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Key in the answers object (letters, digits, `_`).
    pub key: String,
    /// Label shown to the member.
    pub label: String,
    /// One of [`FIELD_TYPES`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Must be answered.
    #[serde(default)]
    pub required: bool,
    /// Choices for `select` / `multiselect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// Minimum: length for text, value for numbers, choices for multiselect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Maximum: length for text, value for numbers, choices for multiselect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// Check a form definition; errors name the field as `fields[i].prop`.
pub fn check_fields(ck: &mut Check, fields: &[FieldDef]) {
    if fields.len() > MAX_FIELDS {
        ck.fail("fields", format!("表单最多 {MAX_FIELDS} 项"));
    }
    let mut keys = std::collections::HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let p = |s: &str| format!("fields[{i}].{s}");
        ck.code(&p("key"), "字段标识", &f.key, 32);
        if !keys.insert(f.key.trim().to_string()) {
            ck.fail(&p("key"), "字段标识重复");
        }
        ck.text(&p("label"), "字段名称", &f.label, 50);
        ck.one_of(&p("type"), "字段类型", &f.kind, FIELD_TYPES);
        let choice = matches!(f.kind.as_str(), "select" | "multiselect");
        match (&f.options, choice) {
            (Some(o), true) => {
                let mut seen = std::collections::HashSet::new();
                if o.is_empty() || o.len() > 50 {
                    ck.fail(&p("options"), "选项须为 1 到 50 个");
                }
                for opt in o {
                    let t = opt.trim();
                    if t.is_empty() || t.chars().count() > 50 || !seen.insert(t) {
                        ck.fail(&p("options"), "选项不能为空、重复或超过 50 个字符");
                    }
                }
            }
            (None, true) => ck.fail(&p("options"), "单选或多选字段须提供选项"),
            (Some(_), false) => ck.fail(&p("options"), "只有单选或多选字段可以设置选项"),
            (None, false) => {}
        }
        for (name, v) in [("min", f.min), ("max", f.max)] {
            if let Some(v) = v
                && (!v.is_finite() || (f.kind != "number" && v < 0.0))
            {
                ck.fail(&p(name), "最小值或最大值无效");
            }
        }
        if let (Some(a), Some(b)) = (f.min, f.max)
            && a > b
        {
            ck.fail(&p("max"), "最大值不能小于最小值");
        }
    }
}

/// Answers after validation: what staff see (ID numbers and phones masked), the encrypted
/// clear values of those, and the image file ids the caller must check belong to the member.
#[derive(Debug, Default)]
pub struct Checked {
    /// Display answers.
    pub display: Map<String, Value>,
    /// Ciphertexts of sealed answers (ID numbers, phones) by key.
    pub secret: Map<String, Value>,
    /// Image file ids referenced.
    pub images: Vec<i64>,
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Validate `answers` against `fields`; every problem is reported as `answers.<key>`.
pub fn check_answers(
    fields: &[FieldDef],
    answers: &Map<String, Value>,
    cipher: &dyn FieldCipher,
) -> Result<Checked> {
    let mut errs = FieldErrors::new();
    let mut out = Checked::default();
    for k in answers.keys() {
        if !fields.iter().any(|f| &f.key == k) {
            errs.insert(format!("answers.{k}"), "报名表中没有此项".into());
        }
    }
    for f in fields {
        let name = format!("answers.{}", f.key);
        let v = answers.get(&f.key).unwrap_or(&Value::Null);
        if is_empty(v) {
            if f.required {
                errs.insert(name, format!("请填写{}", f.label));
            }
            continue;
        }
        match check_one(f, v, cipher) {
            Ok((display, secret, image)) => {
                out.display.insert(f.key.clone(), display);
                if let Some(s) = secret {
                    out.secret.insert(f.key.clone(), Value::String(s));
                }
                out.images.extend(image);
            }
            Err(msg) => {
                errs.insert(name, msg);
            }
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errs))
    }
}

type One = (Value, Option<String>, Option<i64>);

fn check_one(
    f: &FieldDef,
    v: &Value,
    cipher: &dyn FieldCipher,
) -> std::result::Result<One, String> {
    let label = &f.label;
    let text = || {
        v.as_str()
            .map(str::trim)
            .ok_or_else(|| format!("{label}须为文字"))
    };
    match f.kind.as_str() {
        "text" | "textarea" => {
            let s = text()?;
            let n = s.chars().count() as f64;
            let max = f
                .max
                .unwrap_or(if f.kind == "text" { 200.0 } else { 2000.0 });
            if n > max {
                return Err(format!("{label}不能超过 {max} 个字符"));
            }
            if let Some(min) = f.min
                && n < min
            {
                return Err(format!("{label}至少 {min} 个字符"));
            }
            let bad = |c: char| c.is_control() && !(f.kind == "textarea" && (c == '\n'));
            if s.chars().any(bad) {
                return Err(format!("{label}含有不允许的字符"));
            }
            Ok((Value::String(s.into()), None, None))
        }
        "number" => {
            let n = v.as_f64().ok_or_else(|| format!("{label}须为数字"))?;
            if f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m) {
                return Err(format!(
                    "{label}须在 {} 到 {} 之间",
                    f.min.map_or("不限".into(), |m| m.to_string()),
                    f.max.map_or("不限".into(), |m| m.to_string())
                ));
            }
            Ok((v.clone(), None, None))
        }
        "phone" => {
            let p = crate::members::repo::parse_phone("x", text()?)
                .map_err(|_| format!("{label}须为正确的 11 位手机号"))?;
            // A phone is personal data like an ID number: staff lists and exports show it
            // masked, the clear value is kept only encrypted (issue 17, item 6).
            let enc = cipher
                .encrypt(&p, AAD_ANSWER_PHONE)
                .map_err(|_| "暂时无法保存，请稍后再试".to_string())?;
            Ok((Value::String(mask::mask_phone(&p)), Some(enc), None))
        }
        "id_number" => {
            let id = IdNumber::parse(text()?).map_err(|e| format!("{label}：{e}"))?;
            let enc = cipher
                .encrypt(id.normalized(), AAD_ANSWER_ID)
                .map_err(|_| "暂时无法保存，请稍后再试".to_string())?;
            Ok((
                Value::String(mask::mask_id_number(id.normalized())),
                Some(enc),
                None,
            ))
        }
        "date" => {
            let s = text()?;
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("{label}须为日期，格式如 2026-12-01"))?;
            Ok((Value::String(s.into()), None, None))
        }
        "select" => {
            let s = text()?;
            let opts = f.options.as_deref().unwrap_or_default();
            if !opts.iter().any(|o| o.trim() == s) {
                return Err(format!("{label}须从给定选项中选择"));
            }
            Ok((Value::String(s.into()), None, None))
        }
        "multiselect" => {
            let arr = v.as_array().ok_or_else(|| format!("{label}须为选项列表"))?;
            let opts = f.options.as_deref().unwrap_or_default();
            let mut picked: Vec<String> = Vec::new();
            for x in arr {
                let s = x.as_str().map(str::trim).unwrap_or_default();
                if !opts.iter().any(|o| o.trim() == s) {
                    return Err(format!("{label}须从给定选项中选择"));
                }
                if picked.iter().any(|p| p == s) {
                    return Err(format!("{label}的选项不能重复"));
                }
                picked.push(s.into());
            }
            let n = picked.len() as f64;
            if f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m) {
                return Err(format!("{label}选择的数量不符合要求"));
            }
            Ok((Value::from(picked), None, None))
        }
        "image" => {
            let id = v
                .as_i64()
                .filter(|i| *i > 0)
                .ok_or_else(|| format!("{label}须为已上传图片的编号"))?;
            Ok((Value::from(id), None, Some(id)))
        }
        _ => Err(format!("{label}的类型无效")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::field::AesGcmCipher;
    use serde_json::json;

    fn fields() -> Vec<FieldDef> {
        serde_json::from_value(json!([
            {"key": "name", "label": "姓名", "type": "text", "required": true, "max": 5},
            {"key": "age", "label": "年龄", "type": "number", "min": 18, "max": 60},
            {"key": "size", "label": "尺码", "type": "select", "options": ["S", "M"]},
            {"key": "id", "label": "身份证号", "type": "id_number"},
            {"key": "days", "label": "日期", "type": "multiselect", "options": ["六", "日"], "max": 1}
        ]))
        .unwrap()
    }

    fn errs(a: Value) -> FieldErrors {
        let c = AesGcmCipher::ephemeral();
        match check_answers(&fields(), a.as_object().unwrap(), &c) {
            Err(AppError::Validation(f)) => f,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn definitions_are_checked() {
        let mut ck = Check::new();
        let mut f = fields();
        f.push(f[0].clone());
        f[2].options = None;
        f[1].min = Some(100.0);
        check_fields(&mut ck, &f);
        let Err(AppError::Validation(e)) = ck.finish() else {
            panic!()
        };
        assert!(e.contains_key("fields[5].key"));
        assert!(e.contains_key("fields[2].options"));
        assert!(e.contains_key("fields[1].max"));
    }

    #[test]
    fn answers_are_checked_field_by_field() {
        let e = errs(json!({"age": "x", "size": "XL", "extra": 1, "days": ["六", "日"]}));
        assert_eq!(e["answers.name"], "请填写姓名");
        assert!(e["answers.age"].contains("数字"));
        assert!(e["answers.size"].contains("选项"));
        assert!(e.contains_key("answers.extra"));
        assert!(e.contains_key("answers.days"));
        let e = errs(json!({"name": "一二三四五六", "age": 70, "id": "123"}));
        assert!(e["answers.name"].contains("不能超过"));
        assert!(e.contains_key("answers.age") && e.contains_key("answers.id"));
    }

    #[test]
    fn id_answers_are_masked_and_encrypted() {
        let c = AesGcmCipher::ephemeral();
        let a = json!({"name": "张三", "id": "11010519491231002X", "days": ["日"]});
        let out = check_answers(&fields(), a.as_object().unwrap(), &c).unwrap();
        assert_eq!(out.display["id"], "110105**********2X");
        let enc = out.secret["id"].as_str().unwrap();
        assert_eq!(c.decrypt(enc, AAD_ANSWER_ID).unwrap(), "11010519491231002X");
    }

    #[test]
    fn phone_answers_are_masked_and_encrypted_and_revealed_by_one_rule() {
        let c = AesGcmCipher::ephemeral();
        let mut f = fields();
        f.push(
            serde_json::from_value(json!({"key": "tel", "label": "电话", "type": "phone"}))
                .unwrap(),
        );
        let a = json!({"name": "张三", "tel": "13912345678", "id": "11010519491231002X"});
        let out = check_answers(&f, a.as_object().unwrap(), &c).unwrap();
        assert_eq!(out.display["tel"], "139****5678");
        let enc = out.secret["tel"].as_str().unwrap();
        assert_eq!(c.decrypt(enc, AAD_ANSWER_PHONE).unwrap(), "13912345678");
        assert!(
            c.decrypt(enc, AAD_ANSWER_ID).is_err(),
            "bound to its field type"
        );
        let mut shown = out.display.clone();
        assert_eq!(reveal_sealed(&f, &mut shown, &out.secret, &c), 2);
        assert_eq!(shown["tel"], "13912345678");
        assert_eq!(shown["id"], "11010519491231002X");
        assert_eq!(shown["name"], "张三");
    }
}
