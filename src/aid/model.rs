//! The application form as members and clerks send it, its validation, and the sealed
//! (encrypted) shape of its personal values.

use crate::error::Result;
use crate::members::idcard::IdNumber;
use crate::validate::Check;
use serde::{Deserialize, Serialize};

/// Causes of hardship (致困原因): code and Chinese name.
pub const REASONS: &[(&str, &str)] = &[
    ("illness", "因病"),
    ("disability", "因残"),
    ("education", "因学"),
    ("disaster", "因灾"),
    ("unemployment", "失业或下岗"),
    ("accident", "意外事故"),
    ("other", "其他"),
];

/// The Chinese name of a cause code.
pub fn reason_name(code: &str) -> String {
    REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, n)| n.to_string())
}

/// Largest household.
pub const MAX_HOUSEHOLD: i64 = 20;
/// Most attachments on one application.
pub const MAX_ATTACHMENTS: usize = 10;
/// Largest money figure in yuan.
const MAX_YUAN: i64 = 100_000_000;

/// One family member as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyIn {
    /// Name.
    #[schema(max_length = 30)]
    pub name: String,
    /// Relation to the applicant (配偶, 子女, 父母, …).
    #[schema(max_length = 10)]
    pub relation: String,
    /// Resident ID number (GB 11643); optional for small children without one.
    pub id_number: Option<String>,
    /// Age.
    #[schema(minimum = 0, maximum = 150)]
    pub age: Option<i64>,
    /// Occupation or school.
    #[serde(default)]
    #[schema(max_length = 50)]
    pub occupation: String,
    /// Monthly income in yuan, e.g. `1200.50`.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,9}(\.\d{1,2})?$")]
    pub income: Option<String>,
    /// Health.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub health: String,
}

/// One evidence attachment: a private file the applicant uploaded.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentIn {
    /// File id from `POST /api/v1/app/files` (purpose `attachment`).
    pub file_id: i64,
    /// What it proves: 户口本, 诊断证明, 收入证明, …
    #[schema(max_length = 20)]
    pub label: String,
}

/// The application form (create, or replace while draft or returned).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AidApplicationIn {
    /// Aid type.
    pub type_id: i64,
    /// Cause of hardship: `illness`, `disability`, `education`, `disaster`, `unemployment`,
    /// `accident` or `other`.
    #[schema(pattern = "^(illness|disability|education|disaster|unemployment|accident|other)$")]
    pub reason_code: String,
    /// The cause in the applicant's words.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub reason_text: String,
    /// Household size, 1..=20.
    #[schema(minimum = 1, maximum = 20)]
    pub household_size: i64,
    /// Monthly household income in yuan, e.g. `2400.00`.
    #[schema(pattern = r"^\d{1,9}(\.\d{1,2})?$")]
    pub monthly_income: String,
    /// Monthly income per head in yuan; computed from the household income when absent.
    #[schema(pattern = r"^\d{1,9}(\.\d{1,2})?$")]
    pub per_capita_income: Option<String>,
    /// Housing.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub housing: String,
    /// The applicant's health.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub health: String,
    /// Family members (at most the household size).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub family: Vec<FamilyIn>,
    /// Evidence attachments.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachments: Vec<AttachmentIn>,
}

/// The applicant's personal values, stored only encrypted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sealed {
    /// The cause in the applicant's words.
    pub reason_text: String,
    /// Monthly household income, yuan.
    pub monthly_income: String,
    /// Monthly income per head, yuan.
    pub per_capita_income: String,
    /// Housing.
    pub housing: String,
    /// Health.
    pub health: String,
}

/// A family member's personal values, stored only encrypted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FamilySealed {
    /// Name.
    pub name: String,
    /// Full ID number.
    pub id_number: Option<String>,
    /// Occupation.
    pub occupation: String,
    /// Monthly income, yuan.
    pub income: Option<String>,
    /// Health.
    pub health: String,
}

/// A validated family member.
#[derive(Debug, Clone)]
pub struct FamilyData {
    /// Relation.
    pub relation: String,
    /// Age.
    pub age: Option<i64>,
    /// Masked name.
    pub name_masked: String,
    /// Masked ID number.
    pub id_masked: Option<String>,
    /// What is sealed.
    pub sealed: FamilySealed,
}

/// A validated form.
#[derive(Debug, Clone)]
pub struct ApplicationData {
    /// Aid type.
    pub type_id: i64,
    /// Cause code.
    pub reason_code: String,
    /// Household size.
    pub household_size: i64,
    /// What is sealed.
    pub sealed: Sealed,
    /// Family.
    pub family: Vec<FamilyData>,
    /// Attachments: file id and label.
    pub attachments: Vec<(i64, String)>,
}

/// Parse a money figure in yuan: digits with at most two decimals, not negative. Returns the
/// canonical text (two decimals) and the amount in fen.
pub fn money(ck: &mut Check, field: &str, label: &str, v: &str) -> Option<(String, i64)> {
    let t = v.trim();
    if t.starts_with('-') {
        ck.fail(field, format!("{label}不能为负数"));
        return None;
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || int.len() > 9 || (!frac.is_empty() && (!digits(frac) || frac.len() > 2)) {
        ck.fail(
            field,
            format!("{label}须为金额数字（元），最多两位小数，如 1200.50"),
        );
        return None;
    }
    let yuan: i64 = int.parse().ok()?;
    let fen: i64 = format!("{frac:0<2}").parse().ok()?;
    if yuan > MAX_YUAN {
        ck.fail(field, format!("{label}过大"));
        return None;
    }
    let cents = yuan * 100 + fen;
    Some((format!("{}.{:02}", cents / 100, cents % 100), cents))
}

fn family_one(ck: &mut Check, i: usize, f: &FamilyIn) -> FamilyData {
    let k = |n: &str| format!("family[{i}].{n}");
    let name = ck.text(&k("name"), "家庭成员姓名", &f.name, 30);
    let relation = ck.text(&k("relation"), "与申请人关系", &f.relation, 10);
    let occupation = f.occupation.trim().to_string();
    if occupation.chars().count() > 50 {
        ck.fail(&k("occupation"), "职业或就读学校不能超过 50 个字");
    }
    let health = f.health.trim().to_string();
    if health.chars().count() > 200 {
        ck.fail(&k("health"), "健康状况不能超过 200 个字");
    }
    if f.age.is_some_and(|a| !(0..=150).contains(&a)) {
        ck.fail(&k("age"), "年龄须在 0 到 150 之间");
    }
    let id = match f
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(v) => match IdNumber::parse(v) {
            Ok(id) => Some(id),
            Err(e) => {
                ck.fail(&k("id_number"), e.to_string());
                None
            }
        },
    };
    let income = f
        .income
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|v| money(ck, &k("income"), "家庭成员月收入", v))
        .map(|m| m.0);
    FamilyData {
        relation,
        age: f.age,
        name_masked: crate::crypto::mask::mask_name(&name),
        id_masked: id.as_ref().map(IdNumber::masked),
        sealed: FamilySealed {
            name,
            id_number: id.map(|i| i.normalized().to_string()),
            occupation,
            income,
            health,
        },
    }
}

impl AidApplicationIn {
    /// Validate every field (all errors at once).
    pub fn validate(&self) -> Result<ApplicationData> {
        let mut ck = Check::new();
        if !REASONS.iter().any(|(c, _)| *c == self.reason_code) {
            ck.fail("reason_code", "请选择致困原因");
        }
        let reason_text = self.reason_text.trim().to_string();
        if reason_text.chars().count() > 1000 {
            ck.fail("reason_text", "致困原因说明不能超过 1000 个字");
        }
        if !(1..=MAX_HOUSEHOLD).contains(&self.household_size) {
            ck.fail(
                "household_size",
                format!("家庭人口须在 1 到 {MAX_HOUSEHOLD} 人之间"),
            );
        }
        let income = money(
            &mut ck,
            "monthly_income",
            "家庭月收入",
            &self.monthly_income,
        );
        let per_head = match self
            .per_capita_income
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            Some(v) => money(&mut ck, "per_capita_income", "人均月收入", v).map(|m| m.0),
            None => income.as_ref().and_then(|(_, cents)| {
                (1..=MAX_HOUSEHOLD).contains(&self.household_size).then(|| {
                    let c = cents / self.household_size;
                    format!("{}.{:02}", c / 100, c % 100)
                })
            }),
        };
        for (k, label, v) in [
            ("housing", "住房情况", &self.housing),
            ("health", "健康状况", &self.health),
        ] {
            if v.trim().chars().count() > 200 {
                ck.fail(k, format!("{label}不能超过 200 个字"));
            }
        }
        if self.family.len() as i64 > self.household_size.max(1) || self.family.len() > 20 {
            ck.fail("family", "家庭成员人数不能超过家庭人口数");
        }
        let family: Vec<FamilyData> = self
            .family
            .iter()
            .enumerate()
            .map(|(i, f)| family_one(&mut ck, i, f))
            .collect();
        if self.attachments.len() > MAX_ATTACHMENTS {
            ck.fail("attachments", format!("佐证材料最多 {MAX_ATTACHMENTS} 份"));
        }
        let mut attachments = Vec::new();
        for (i, a) in self.attachments.iter().enumerate() {
            let label = ck.text(&format!("attachments[{i}].label"), "材料名称", &a.label, 20);
            if attachments.iter().any(|(f, _)| *f == a.file_id) {
                ck.fail(
                    &format!("attachments[{i}].file_id"),
                    "同一份材料不能重复添加",
                );
            }
            attachments.push((a.file_id, label));
        }
        ck.finish()?;
        Ok(ApplicationData {
            type_id: self.type_id,
            reason_code: self.reason_code.clone(),
            household_size: self.household_size,
            sealed: Sealed {
                reason_text,
                monthly_income: income.map(|m| m.0).unwrap_or_default(),
                per_capita_income: per_head.unwrap_or_default(),
                housing: self.housing.trim().to_string(),
                health: self.health.trim().to_string(),
            },
            family,
            attachments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> AidApplicationIn {
        AidApplicationIn {
            type_id: 1,
            reason_code: "illness".into(),
            reason_text: "妻子患病".into(),
            household_size: 3,
            monthly_income: "2400".into(),
            per_capita_income: None,
            housing: "租房".into(),
            health: "良好".into(),
            family: vec![],
            attachments: vec![],
        }
    }

    #[test]
    fn money_is_canonical_and_refuses_negative_and_text() {
        let mut ck = Check::new();
        assert_eq!(
            money(&mut ck, "x", "收入", "12.5"),
            Some(("12.50".into(), 1250))
        );
        assert_eq!(money(&mut ck, "x", "收入", "-1"), None);
        assert_eq!(money(&mut ck, "y", "收入", "abc"), None);
        assert_eq!(money(&mut ck, "y", "收入", "1.234"), None);
        assert!(ck.finish().is_err());
        assert_eq!(
            good().validate().unwrap().sealed.per_capita_income,
            "800.00"
        );
    }

    #[test]
    fn bad_fields_are_reported_together() {
        let mut a = good();
        a.household_size = 0;
        a.monthly_income = "-5".into();
        a.family = vec![FamilyIn {
            name: "李四".into(),
            relation: "配偶".into(),
            id_number: Some("110105199001011234".into()),
            age: Some(30),
            occupation: String::new(),
            income: Some("x".into()),
            health: String::new(),
        }];
        let Err(crate::error::AppError::Validation(f)) = a.validate() else {
            panic!()
        };
        for k in [
            "household_size",
            "monthly_income",
            "family[0].id_number",
            "family[0].income",
        ] {
            assert!(f.contains_key(k), "{k}: {f:?}");
        }
    }
}
