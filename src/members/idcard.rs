//! Chinese resident identity numbers (GB 11643-1999, 18 characters).
//!
//! Checked: length, characters, province part of the region code, birth date and the
//! ISO 7064 MOD 11-2 check digit. Only the first two region digits are checked against the
//! province list; a full county-level region table (GB/T 2260) is deliberately not embedded
//! because it changes yearly and old codes stay valid on issued cards.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Weights of the first 17 digits for the MOD 11-2 check digit.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each `sum % 11`.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// Province-level codes (first two digits): mainland provinces, Taiwan 71, HK 81, Macao 82,
/// and 91 used for some residence permits.
const PROVINCES: [u32; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91,
];

/// Why an ID number was refused; the message is shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not exactly 18 characters.
    #[error("身份证号码应为 18 位")]
    WrongLength,
    /// Something other than digits (and a final X).
    #[error("身份证号码只能包含数字，最后一位可以是 X")]
    NonDigit,
    /// The first two digits are not a province code.
    #[error("身份证号码的地区代码无效")]
    BadRegion,
    /// Digits 7–14 are not a real date between 1900 and today.
    #[error("身份证号码中的出生日期无效")]
    BadBirthDate,
    /// The last character does not match the check digit.
    #[error("身份证号码校验位不正确，请核对后重新输入")]
    BadChecksum,
}

impl From<IdError> for crate::error::AppError {
    /// A validation error on the `id_number` field (the name API.md uses).
    fn from(e: IdError) -> Self {
        crate::error::AppError::field("id_number", e.to_string())
    }
}

/// Gender as encoded in the 17th digit (odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Gender {
    /// `male` / `female`, as stored and sent in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }
}

/// A validated resident ID number. `Debug` is masked and there is deliberately no `Display`,
/// so the number cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber {
    value: String,
    birth_date: NaiveDate,
    gender: Gender,
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl IdNumber {
    /// Parse and validate against today's (local) date.
    pub fn parse(input: &str) -> Result<IdNumber, IdError> {
        Self::parse_on(input, chrono::Local::now().date_naive())
    }

    /// Parse and validate with `today` as the latest acceptable birth date.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<IdNumber, IdError> {
        let value = input.trim().to_ascii_uppercase();
        if value.chars().count() != 18 {
            return Err(IdError::WrongLength);
        }
        // 18 chars, all ASCII from here on, so byte indexing below is safe.
        let b = value.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdError::NonDigit);
        }
        let num = |r: std::ops::Range<usize>| value[r].parse::<u32>().unwrap_or(0);
        if !PROVINCES.contains(&num(0..2)) {
            return Err(IdError::BadRegion);
        }
        let birth_date = NaiveDate::from_ymd_opt(num(6..10) as i32, num(10..12), num(12..14))
            .filter(|d| d.year() >= 1900 && *d <= today)
            .ok_or(IdError::BadBirthDate)?;
        if check_char(&value[..17]) != Some(b[17] as char) {
            return Err(IdError::BadChecksum);
        }
        let gender = if (b[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        };
        Ok(IdNumber {
            value,
            birth_date,
            gender,
        })
    }

    /// The canonical 18-character form (upper-case X), input of the blind index.
    pub fn normalized(&self) -> &str {
        &self.value
    }

    /// Birth date from digits 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// Gender from the 17th digit.
    pub fn gender(&self) -> Gender {
        self.gender
    }

    /// Display form, e.g. `110105**********2X` (see [`crate::crypto::mask::mask_id_number`]).
    pub fn masked(&self) -> String {
        crate::crypto::mask::mask_id_number(&self.value)
    }
}

/// The MOD 11-2 check character for the first 17 digits; `None` if `first17` is not 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    /// Complete 17 digits with their check character.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    #[test]
    fn known_good_numbers() {
        // Published GB 11643 examples.
        let id = IdNumber::parse_on("11010519491231002X", today()).unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.gender(), Gender::Female);
        let id = IdNumber::parse_on("440524188001010014", today());
        assert_eq!(id.unwrap_err(), IdError::BadBirthDate); // 1880 is before 1900
        assert_eq!(check_char("44052418800101001"), Some('4'));
        let id = IdNumber::parse_on(&with_check("53290119900101123"), today()).unwrap();
        assert_eq!(id.gender(), Gender::Male);
        assert_eq!(id.birth_date().to_string(), "1990-01-01");
    }

    #[test]
    fn normalizes_case_and_whitespace() {
        let id = IdNumber::parse_on("  11010519491231002x\n", today()).unwrap();
        assert_eq!(id.normalized(), "11010519491231002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105**********2X)");
        assert_eq!(id.masked(), "110105**********2X");
    }

    #[test]
    fn check_digit_covers_every_remainder() {
        // Vary the sequence digits until all 11 check characters have been produced and accepted.
        let mut seen = std::collections::HashSet::new();
        for seq in 0..200 {
            let s = with_check(&format!("32010219850615{seq:03}"));
            let id = IdNumber::parse_on(&s, today()).unwrap();
            assert_eq!(id.gender() == Gender::Male, seq % 2 == 1);
            seen.insert(s.chars().last().unwrap());
        }
        assert_eq!(seen.len(), 11);
    }

    #[test]
    fn bad_checksum() {
        assert_eq!(
            IdNumber::parse_on("110105194912310021", today()),
            Err(IdError::BadChecksum)
        );
        let good = with_check("53290119900101123");
        let last = good.chars().last().unwrap();
        let wrong = if last == '0' { '1' } else { '0' };
        let bad = format!("{}{wrong}", &good[..17]);
        assert_eq!(IdNumber::parse_on(&bad, today()), Err(IdError::BadChecksum));
    }

    #[test]
    fn bad_dates() {
        for first17 in [
            "53290119900231123",
            "53290119901301123",
            "53290118991231123",
        ] {
            let s = with_check(first17);
            assert_eq!(
                IdNumber::parse_on(&s, today()),
                Err(IdError::BadBirthDate),
                "{s}"
            );
        }
        let future = with_check("53290120250602123");
        assert_eq!(
            IdNumber::parse_on(&future, today()),
            Err(IdError::BadBirthDate)
        );
        let born_today = with_check("53290120250601123");
        assert!(IdNumber::parse_on(&born_today, today()).is_ok());
        assert_eq!(
            IdNumber::parse(&with_check("53290129991231123")),
            Err(IdError::BadBirthDate)
        );
        assert!(IdNumber::parse("11010519491231002X").is_ok());
    }

    #[test]
    fn bad_shape_and_region() {
        let t = today();
        assert_eq!(
            IdNumber::parse_on("11010519491231002", t),
            Err(IdError::WrongLength)
        );
        assert_eq!(
            IdNumber::parse_on("11010519491231002X1", t),
            Err(IdError::WrongLength)
        );
        assert_eq!(IdNumber::parse_on("", t), Err(IdError::WrongLength));
        assert_eq!(
            IdNumber::parse_on("11010519491231002Y", t),
            Err(IdError::NonDigit)
        );
        assert_eq!(
            IdNumber::parse_on("1101051949123100X2", t),
            Err(IdError::NonDigit)
        );
        assert_eq!(
            IdNumber::parse_on("abcdefghijklmnopqr", t),
            Err(IdError::NonDigit)
        );
        // 18 characters but multi-byte: must be refused without slicing inside a character.
        assert_eq!(
            IdNumber::parse_on("一一〇一〇五一九四九一二三一〇〇二X", t),
            Err(IdError::NonDigit)
        );
        assert_eq!(
            IdNumber::parse_on("１１０１０５１９４９１２３１００２Ｘ", t),
            Err(IdError::NonDigit)
        );
        for region in ["00", "10", "16", "20", "24", "39", "66", "72", "80", "99"] {
            let s = with_check(&format!("{region}010519491231002"));
            assert_eq!(IdNumber::parse_on(&s, t), Err(IdError::BadRegion), "{s}");
        }
    }

    /// Every valid ID number that shows `mask` and was born in `year` with `gender`.
    fn candidates(mask: &str, year: i32, gender: Gender) -> usize {
        let t = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut n = 0;
        let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        while d.year() == year {
            for seq in 0..1000 {
                let first17 = format!("{}{}{seq:03}", &mask[..6], d.format("%Y%m%d"));
                let full = format!("{first17}{}", check_char(&first17).unwrap());
                let id = IdNumber::parse_on(&full, t).unwrap();
                if id.gender() == gender && id.masked() == mask {
                    n += 1;
                }
            }
            d = d.succ_opt().unwrap();
        }
        n
    }

    /// Item 2 of issue 17: what a masked view shows (mask, birth year, gender) must leave many
    /// candidates. With the old `6 + 4` mask it left about 33; now thousands.
    #[test]
    fn masked_id_with_birth_year_and_gender_leaves_thousands_of_candidates() {
        let id = IdNumber::parse_on(&with_check("11010519900307123"), today()).unwrap();
        let n = candidates(&id.masked(), 1990, id.gender());
        assert!(n > 3000, "only {n} candidates");
    }

    #[test]
    fn errors_are_chinese_field_errors() {
        assert_eq!(
            IdError::BadChecksum.to_string(),
            "身份证号码校验位不正确，请核对后重新输入"
        );
        let e: crate::error::AppError = IdError::WrongLength.into();
        assert!(
            matches!(e, crate::error::AppError::Validation(f) if f["id_number"].contains("18"))
        );
    }
}
