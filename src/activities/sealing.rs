//! Stored registration answers as personal data: their erasure with the account, and the
//! one-time upgrade of stored answers (issue 17, items 2, 6 and 7). Phone answers
//! written in clear by earlier versions are encrypted into `answers_enc` and masked in
//! `answers`; ID-number answers masked the old way (`6 + 4`) get the current mask.
//!
//! Idempotent by construction, so a crash half-way or a second run is harmless: a phone answer
//! is sealed only while its display value still has no `*` (a masked value always has one),
//! and an ID mask is re-derived from the old mask itself only while it has the old shape.
//! A marker in `settings` skips the scan on later starts; it is written in the same transaction
//! as the last batch.

use super::form::{FieldDef, mask_sealed, sealed_aad};
use crate::crypto::field::FieldCipher;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

/// Settings key recording that stored answers were upgraded.
pub const MARKER: &str = "data_step.answers_sealed_v1";

/// Upgrade every stored answer that needs it; returns how many registrations changed.
/// Runs inside the caller's write transaction.
pub fn seal_stored_answers(c: &Connection, cipher: &dyn FieldCipher) -> Result<usize> {
    let done: Option<String> = c
        .query_row("SELECT value FROM settings WHERE key = ?1", [MARKER], |r| {
            r.get(0)
        })
        .optional()?;
    if done.is_some() {
        return Ok(0);
    }
    // Only activities whose form has a sealed field type need a look.
    let mut st = c.prepare(
        "SELECT a.id, t.fields FROM activities a JOIN form_templates t ON t.id = a.form_template_id",
    )?;
    let forms: Vec<(i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut changed = 0;
    for (activity, raw) in forms {
        let fields: Vec<FieldDef> = serde_json::from_str(&raw).unwrap_or_default();
        if !fields.iter().any(|f| sealed_aad(&f.kind).is_some()) {
            continue;
        }
        changed += seal_activity(c, cipher, activity, &fields)?;
    }
    c.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?1, '1', ?2)
         ON CONFLICT (key) DO UPDATE SET value = '1', updated_at = excluded.updated_at",
        params![MARKER, crate::time::now()],
    )?;
    Ok(changed)
}

fn seal_activity(
    c: &Connection,
    cipher: &dyn FieldCipher,
    activity: i64,
    fields: &[FieldDef],
) -> Result<usize> {
    let mut st = c.prepare(
        "SELECT id, answers, answers_enc FROM activity_registrations WHERE activity_id = ?1",
    )?;
    let rows: Vec<(i64, String, String)> = st
        .query_map([activity], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut changed = 0;
    for (id, answers, enc) in rows {
        let mut answers: Map<String, Value> = serde_json::from_str(&answers).unwrap_or_default();
        let mut enc: Map<String, Value> = serde_json::from_str(&enc).unwrap_or_default();
        if seal_one(fields, &mut answers, &mut enc, cipher)? {
            c.execute(
                "UPDATE activity_registrations SET answers = ?1, answers_enc = ?2 WHERE id = ?3",
                params![
                    Value::Object(answers).to_string(),
                    Value::Object(enc).to_string(),
                    id
                ],
            )?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Blank every registration answer of a deleted member (display and sealed values, and the
/// rating comment, the review photos); the rows stay for the activity's counts and history (issue 17, item 7).
pub fn erase_member_answers(c: &Connection, member: i64) -> Result<()> {
    c.execute(
        "UPDATE activity_registrations SET answers = '{}', answers_enc = '{}', comment = NULL WHERE member_id = ?1",
        [member],
    )?;
    super::reviews::erase_member(c, member)?;
    Ok(())
}

/// Upgrade one registration's answers in place; true when anything changed.
pub fn seal_one(
    fields: &[FieldDef],
    answers: &mut Map<String, Value>,
    enc: &mut Map<String, Value>,
    cipher: &dyn FieldCipher,
) -> Result<bool> {
    let mut changed = false;
    for f in fields {
        let Some(aad) = sealed_aad(&f.kind) else {
            continue;
        };
        let Some(shown) = answers.get(&f.key).and_then(Value::as_str) else {
            continue;
        };
        let upgraded = if !shown.contains(crate::crypto::mask::STAR) {
            // Still in clear (phones before this version): seal it.
            enc.insert(f.key.clone(), Value::String(cipher.encrypt(shown, aad)?));
            Some(mask_sealed(&f.kind, shown))
        } else if f.kind == "id_number" {
            old_id_mask(shown)
        } else {
            None
        };
        if let Some(m) = upgraded {
            answers.insert(f.key.clone(), Value::String(m));
            changed = true;
        }
    }
    Ok(changed)
}

/// The current mask from an ID masked the old way (`110105********002X` → `110105**********2X`).
fn old_id_mask(shown: &str) -> Option<String> {
    let chars: Vec<char> = shown.chars().collect();
    let old = chars.len() == 18
        && chars[6..14].iter().all(|c| *c == '*')
        && chars[14..16].iter().all(|c| *c != '*');
    old.then(|| {
        let head: String = chars[..6].iter().collect();
        let tail: String = chars[16..].iter().collect();
        format!("{head}**********{tail}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::field::AesGcmCipher;
    use serde_json::json;

    fn fields() -> Vec<FieldDef> {
        serde_json::from_value(json!([
            {"key": "tel", "label": "电话", "type": "phone"},
            {"key": "idno", "label": "身份证号", "type": "id_number"},
            {"key": "note", "label": "备注", "type": "text"}
        ]))
        .unwrap()
    }

    #[test]
    fn clear_phones_are_sealed_old_id_masks_upgraded_and_a_second_run_changes_nothing() {
        let c = AesGcmCipher::ephemeral();
        let mut a =
            json!({"tel": "13912345678", "idno": "110105********002X", "note": "13912345678"})
                .as_object()
                .unwrap()
                .clone();
        let mut e = json!({"idno": "v1:x:y"}).as_object().unwrap().clone();
        assert!(seal_one(&fields(), &mut a, &mut e, &c).unwrap());
        assert_eq!(a["tel"], "139****5678");
        assert_eq!(a["idno"], "110105**********2X");
        assert_eq!(a["note"], "13912345678", "free text is not a phone field");
        let ct = e["tel"].as_str().unwrap();
        assert_eq!(
            c.decrypt(ct, super::super::form::AAD_ANSWER_PHONE).unwrap(),
            "13912345678"
        );
        let (a2, e2) = (a.clone(), e.clone());
        assert!(!seal_one(&fields(), &mut a, &mut e, &c).unwrap());
        assert_eq!((a, e), (a2, e2));
    }
}
