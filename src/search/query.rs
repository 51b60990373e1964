//! Building and running a news query: Chinese terms over title (boosted), body and category,
//! with visibility filters (status, org ids) inside the query so totals and pages are exact.

use super::schema::{Fields, analyzer};
use crate::error::{AppError, Result};
use std::collections::HashSet;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, IndexReader, Term};

/// How much a title hit outweighs a body hit.
pub const TITLE_BOOST: f32 = 4.0;
/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 50;
/// Snippet length in bytes (about 80 Chinese characters).
const SNIPPET_BYTES: usize = 240;

/// Characters of a snippet window, and how many of them come before the first hit.
const SNIPPET_CHARS: usize = 80;
const SNIPPET_BEFORE: usize = 20;

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The user's words.
    pub q: String,
    /// Only this status (members: `published`).
    pub status: Option<String>,
    /// Only articles of these orgs; `None` = any org.
    pub org_ids: Option<Vec<i64>>,
    /// Only this category.
    pub category_id: Option<i64>,
    /// Hits to skip.
    pub offset: usize,
    /// Hits to return.
    pub limit: usize,
}

/// One page of hits in rank order, with what is needed to highlight them.
pub struct SearchHits {
    /// Every matching article (for pagination).
    pub total: usize,
    /// Article ids of this page, best first.
    pub ids: Vec<i64>,
    /// Highlighting for this query.
    pub highlighter: Highlighter,
}

/// Marks query terms in titles and bodies; everything else is HTML-escaped.
pub struct Highlighter {
    terms: HashSet<String>,
}

/// The distinct searchable tokens of a query (punctuation and spaces dropped).
pub fn query_tokens(q: &str) -> Vec<String> {
    let mut a = analyzer();
    let mut ts = a.token_stream(q);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while ts.advance() {
        let t = ts.token().text.clone();
        if t.chars().any(char::is_alphanumeric) && seen.insert(t.clone()) {
            out.push(t);
        }
    }
    out
}

/// Check a user's query: trimmed, 1..=50 characters, at least one searchable word.
pub fn check_query(q: Option<&str>) -> Result<String> {
    let q = q.map(str::trim).unwrap_or("");
    if q.is_empty() {
        return Err(AppError::field("q", "请输入搜索词"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::field(
            "q",
            format!("搜索词不能超过 {MAX_QUERY_CHARS} 个字符"),
        ));
    }
    if query_tokens(q).is_empty() {
        return Err(AppError::field("q", "搜索词须包含文字或数字"));
    }
    Ok(q.to_string())
}

/// The scoring part: every token must occur in the title, the body or the category.
pub fn text_query(f: &Fields, tokens: &[String]) -> BooleanQuery {
    let must: Vec<(Occur, Box<dyn Query>)> = tokens
        .iter()
        .map(|t| {
            let term = |field| {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                )) as Box<dyn Query>
            };
            let any: Vec<(Occur, Box<dyn Query>)> = vec![
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(term(f.title), TITLE_BOOST)),
                ),
                (Occur::Should, term(f.body)),
                (Occur::Should, term(f.category)),
            ];
            (
                Occur::Must,
                Box::new(BooleanQuery::new(any)) as Box<dyn Query>,
            )
        })
        .collect();
    BooleanQuery::new(must)
}

/// The whole query: text plus filters (which do not change the score).
pub fn build(f: &Fields, tokens: &[String], req: &SearchRequest) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, Box::new(text_query(f, tokens)))];
    let filter = |q: Box<dyn Query>| {
        (
            Occur::Must,
            Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>,
        )
    };
    if let Some(s) = &req.status {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_field_text(f.status, s),
            IndexRecordOption::Basic,
        ))));
    }
    if let Some(orgs) = &req.org_ids {
        let terms = orgs
            .iter()
            .map(|o| Term::from_field_u64(f.org_id, *o as u64));
        clauses.push(filter(Box::new(TermSetQuery::new(terms))));
    }
    if let Some(c) = req.category_id {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_field_u64(f.category_id, c as u64),
            IndexRecordOption::Basic,
        ))));
    }
    BooleanQuery::new(clauses)
}

/// Run a search on the current reader.
pub fn run(reader: &IndexReader, f: &Fields, req: &SearchRequest) -> Result<SearchHits> {
    let tokens = query_tokens(&req.q);
    let searcher = reader.searcher();
    let query = build(f, &tokens, req);
    if req.org_ids.as_ref().is_some_and(|o| o.is_empty()) || tokens.is_empty() {
        return Ok(SearchHits {
            total: 0,
            ids: vec![],
            highlighter: Highlighter::new(tokens),
        });
    }
    // The collector allocates a heap of `offset + limit` entries: refuse a window past the
    // lists' bound here too, so no caller can size it from an unchecked client number.
    let window = req.offset.checked_add(req.limit);
    if window.is_none_or(|w| w > crate::http::MAX_WINDOW as usize) {
        return Err(AppError::field("page", "页码超出可查看范围"));
    }
    let top = TopDocs::with_limit(req.limit.max(1))
        .and_offset(req.offset)
        .order_by_score();
    let (docs, total) = searcher
        .search(&query, &(top, Count))
        .map_err(AppError::internal)?;
    let ids = doc_ids(&searcher, f, docs.iter().map(|(_, a)| *a))?;
    let highlighter = Highlighter::new(tokens);
    Ok(SearchHits {
        total,
        ids: if req.limit == 0 { vec![] } else { ids },
        highlighter,
    })
}

/// Article ids of document addresses (from the `id` fast field).
pub fn doc_ids(
    searcher: &tantivy::Searcher,
    f: &Fields,
    addrs: impl Iterator<Item = DocAddress>,
) -> Result<Vec<i64>> {
    let name = searcher.schema().get_field_name(f.id).to_string();
    let mut out = Vec::new();
    for a in addrs {
        let col = searcher
            .segment_reader(a.segment_ord)
            .fast_fields()
            .u64(&name)
            .map_err(AppError::internal)?;
        if let Some(id) = col.first(a.doc_id) {
            out.push(id as i64);
        }
    }
    Ok(out)
}

impl Highlighter {
    fn new(tokens: Vec<String>) -> Highlighter {
        Highlighter {
            terms: tokens.into_iter().collect(),
        }
    }

    /// The whole title, HTML-escaped, with `<em>` around every query word.
    ///
    /// Words are found as substrings (ASCII case ignored) rather than by cutting the text with
    /// jieba again: every query word is a jieba word already, and a page of hits would
    /// otherwise cost dozens of tokenizer runs.
    pub fn title(&self, title: &str) -> String {
        let hay = ascii_lower(title);
        let ranges = self
            .terms
            .iter()
            .flat_map(|t| hay.match_indices(t.as_str()).map(|(i, m)| i..i + m.len()))
            .collect();
        mark(title, ranges)
    }

    /// A window of `text` around its first query word (HTML-escaped, words in `<em>`, `…`
    /// where cut), or the start of `fallback` when the body has no hit.
    ///
    /// Only the window is tokenised: an article can be many thousands of characters, and
    /// cutting all of it with jieba for each of a page's hits cost more than the search itself.
    pub fn snippet(&self, text: &str, fallback: &str) -> String {
        let hay = ascii_lower(text);
        let first = self.terms.iter().filter_map(|t| hay.find(t.as_str())).min();
        let Some(pos) = first else {
            let src = if fallback.trim().is_empty() {
                text
            } else {
                fallback
            };
            let cut: String = src.chars().take(SNIPPET_BYTES / 3).collect();
            return escape_html(&cut);
        };
        let start = text[..pos]
            .char_indices()
            .rev()
            .nth(SNIPPET_BEFORE - 1)
            .map_or(0, |(i, _)| i);
        let end = text[start..]
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(text.len(), |(i, _)| start + i);
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        out.push_str(&self.title(&text[start..end]));
        if end < text.len() {
            out.push('…');
        }
        out
    }
}

/// `s` with ASCII letters lower-cased, as query terms are; byte offsets are kept, so a match
/// in the result is a range of `s`. Borrowed when there is nothing to change.
fn ascii_lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Escape text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escape `text` and wrap the (possibly overlapping) byte ranges in `<em>`.
fn mark(text: &str, mut ranges: Vec<std::ops::Range<usize>>) -> String {
    ranges.retain(|r| {
        r.start < r.end
            && r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end)
    });
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut out = String::new();
    let mut at = 0;
    for r in merged {
        out.push_str(&escape_html(&text[at..r.start]));
        out.push_str("<em>");
        out.push_str(&escape_html(&text[r.start..r.end]));
        out.push_str("</em>");
        at = r.end;
    }
    out.push_str(&escape_html(&text[at..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::Index;

    /// A long body yields a short window around the first hit, cut on character boundaries.
    #[test]
    fn snippets_are_a_window_around_the_first_hit() {
        let h = Highlighter::new(vec!["帮扶".into(), "abc".into()]);
        let body = format!("{}困难职工帮扶{}", "前".repeat(500), "后".repeat(500));
        let s = h.snippet(&body, "");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<em>帮扶</em>"), "{s}");
        assert!(s.chars().count() < 120, "{s}");
        // Latin words match whatever their case.
        assert!(h.snippet("Hello ABC world", "").contains("<em>ABC</em>"));
        // No hit: the start of the fallback, escaped.
        assert_eq!(h.snippet("无关正文", "<摘要>"), "&lt;摘要&gt;");
    }

    #[test]
    fn queries_are_checked() {
        assert!(check_query(None).is_err());
        assert!(check_query(Some("   ")).is_err());
        assert!(check_query(Some("，。！")).is_err());
        assert!(check_query(Some(&"工".repeat(51))).is_err());
        assert_eq!(check_query(Some(" 工会 ")).unwrap(), "工会");
    }

    #[test]
    fn marks_escape_everything_else() {
        assert_eq!(
            mark("<b>工会</b>", std::iter::once(3..9).collect()),
            "&lt;b&gt;<em>工会</em>&lt;/b&gt;"
        );
        assert_eq!(mark("a&b", vec![]), "a&amp;b");
        assert_eq!(mark("工会帮扶", vec![0..6, 3..12]), "<em>工会帮扶</em>");
    }

    /// Overlapping search-mode tokens (which made tantivy's `to_html` panic) are merged.
    #[test]
    fn overlapping_hits_do_not_panic() {
        let (schema, f) = super::super::schema::schema();
        let index = Index::create_in_ram(schema);
        super::super::schema::register(&index);
        let text = "援助培训工会志愿者乡镇关爱助学举办劳动者开展书屋志愿者学习书屋送温暖民主援助召开春节会议建设慰问驿站民主疗休养年度基层驿站女职工总结";
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let row = super::super::schema::IndexRow {
            id: 1,
            version: 1,
            org_id: 1,
            org_path: "/1/".into(),
            category_id: 1,
            category: "通知".into(),
            status: "published".into(),
            title: "标题".into(),
            summary: String::new(),
            body_text: text.into(),
            published_at: None,
        };
        w.add_document(row.document(&f)).unwrap();
        w.commit().unwrap();
        let reader = index.reader().unwrap();
        for q in [
            "工会",
            "帮扶",
            "疗休养",
            "劳模",
            "职工之家",
            "送温暖",
            "技能竞赛",
            "法律援助",
            "女职工 关爱",
            "金秋助学",
            "户外劳动者驿站",
        ] {
            let req = SearchRequest {
                q: q.into(),
                status: None,
                org_ids: None,
                category_id: None,
                offset: 0,
                limit: 1,
            };
            let hits = run(&reader, &f, &req).unwrap();
            let s = hits.highlighter.snippet(text, "");
            assert!(!s.contains("<em></em>"), "{q}: {s}");
            if ["工会", "疗休养", "送温暖"].contains(&q) {
                assert!(s.contains("<em>"), "{q}: {s}");
            }
        }
    }

    /// Snippets HTML-escape the text around our `<em>` marks.
    #[test]
    fn snippets_escape_html() {
        let (schema, f) = super::super::schema::schema();
        let index = Index::create_in_ram(schema);
        super::super::schema::register(&index);
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let row = super::super::schema::IndexRow {
            id: 1,
            version: 1,
            org_id: 1,
            org_path: "/1/".into(),
            category_id: 1,
            category: "通知".into(),
            status: "published".into(),
            title: "标题".into(),
            summary: String::new(),
            body_text: "<script>alert(1)</script> 工会 & 职工".into(),
            published_at: None,
        };
        w.add_document(row.document(&f)).unwrap();
        w.commit().unwrap();
        let reader = index.reader().unwrap();
        let req = SearchRequest {
            q: "工会".into(),
            status: None,
            org_ids: None,
            category_id: None,
            offset: 0,
            limit: 10,
        };
        let hits = run(&reader, &f, &req).unwrap();
        assert_eq!(hits.ids, vec![1]);
        let s = hits.highlighter.snippet(&row.body_text, "");
        assert!(s.contains("<em>工会</em>"), "{s}");
        assert!(!s.contains("<script>"), "{s}");
        assert!(s.contains("&amp;") || !s.contains('&'), "{s}");
    }
}
