//! Masking of personal data for display in lists, details and masked exports.
//!
//! Every function counts characters, not bytes, so Chinese text is safe, and none of them
//! ever panics. On input too short for a rule to hide enough, the whole value is starred:
//! an odd value must never reveal more than a well-formed one would.

/// The masking character.
pub const STAR: char = '*';

/// Keep `front` leading and `back` trailing characters and star the rest; if fewer than
/// `min_hidden` characters would be starred, star everything instead.
pub fn mask_keep(value: &str, front: usize, back: usize, min_hidden: usize) -> String {
    let chars: Vec<char> = value.trim().chars().collect();
    let n = chars.len();
    let kept = front.saturating_add(back);
    if n < kept.saturating_add(min_hidden.max(1)) {
        return STAR.to_string().repeat(n);
    }
    let mut out = String::with_capacity(value.len());
    out.extend(&chars[..front]);
    out.extend(std::iter::repeat_n(STAR, n - kept));
    out.extend(&chars[n - back..]);
    out
}

/// Resident ID: keep the 6-digit region and the last 2 (`532901**********34`).
///
/// Why not the last 4: the 8 digits between region and sequence are exactly the birth date,
/// which colleagues know and which used to be shown beside the mask, so `6 + 4` plus a birth
/// date is the whole number. Hiding two sequence digits as well leaves about 100 / 11 ≈ 9
/// candidates to someone who knows the birth date, and ≈ 3,300 to someone who sees the birth
/// year only (the most any masked view shows). A 15-digit legacy number still hides 7;
/// anything shorter is fully starred.
pub fn mask_id_number(id: &str) -> String {
    mask_keep(id, 6, 2, 7)
}

/// Mobile phone: keep the first 3 and last 4 (`138****5678`); shorter input fully starred.
pub fn mask_phone(phone: &str) -> String {
    mask_keep(phone, 3, 4, 4)
}

/// Name: first character plus one star per remaining character (`张**`, `张*`); a
/// one-character name is starred entirely because its first character is all of it.
pub fn mask_name(name: &str) -> String {
    mask_keep(name, 1, 0, 1)
}

/// Bank card: keep the last 4 digits only; spaces and dashes are dropped first so grouping
/// does not change what is revealed. Fewer than 8 characters are fully starred.
pub fn mask_bank_card(card: &str) -> String {
    let compact: String = card
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    mask_keep(&compact, 0, 4, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_number() {
        assert_eq!(mask_id_number("532901199001011234"), "532901**********34");
        assert_eq!(mask_id_number(" 11010519491231002X "), "110105**********2X");
        assert_eq!(mask_id_number("110105491231002"), "110105*******02");
        assert_eq!(mask_id_number("12345678901234"), "**************");
        assert_eq!(mask_id_number("123"), "***");
        assert_eq!(mask_id_number(""), "");
    }

    #[test]
    fn phone() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+8613812345678"), "+86*******5678");
        assert_eq!(mask_phone("1381234567"), "**********");
        assert_eq!(mask_phone("5678"), "****");
    }

    #[test]
    fn name_is_char_aware() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("阿卜杜·热合曼"), "阿******");
        assert_eq!(mask_name("John"), "J***");
        assert_eq!(mask_name("  "), "");
    }

    #[test]
    fn bank_card() {
        assert_eq!(mask_bank_card("6222021234567890123"), "***************0123");
        assert_eq!(mask_bank_card("6222 0212 3456 7890"), "************7890");
        assert_eq!(mask_bank_card("1234567"), "*******");
    }

    #[test]
    fn never_panics_or_reveals_more_than_the_rule() {
        let samples = [
            "",
            "a",
            "张",
            "😀😀😀",
            "１２３４５６７８９０１２３４５６７８",
            "x\u{301}y",
        ];
        for s in samples {
            for m in [
                mask_id_number(s),
                mask_phone(s),
                mask_name(s),
                mask_bank_card(s),
            ] {
                assert!(m.chars().filter(|c| *c != STAR).count() <= 10, "{s} -> {m}");
            }
        }
        for n in 0..30 {
            let s = "9".repeat(n);
            let visible = |m: String| m.chars().filter(|c| *c != STAR).count();
            assert!(visible(mask_id_number(&s)) <= 10 && visible(mask_id_number(&s)) < n.max(1));
            assert!(visible(mask_phone(&s)) <= 7 && visible(mask_phone(&s)) < n.max(1));
            assert!(visible(mask_bank_card(&s)) <= 4);
            assert!(
                mask_keep(&s, usize::MAX, usize::MAX, usize::MAX)
                    .chars()
                    .all(|c| c == STAR)
            );
        }
    }
}
