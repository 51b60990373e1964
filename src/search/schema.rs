//! The news index schema and its Chinese analyzer.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer};
use tantivy::{Index, TantivyDocument};

/// Name under which the Chinese analyzer is registered on the index.
pub const TOKENIZER: &str = "zh";

/// The analyzer for Chinese (and mixed Latin) text: jieba in search mode without HMM, so a
/// word is cut the same way in a query as inside a long article (HMM guesses depend on the
/// surrounding text), then lower-casing for Latin words.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::with_hmm(false))
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .build()
}

/// Register the analyzer on an index (must be done on every open).
pub fn register(index: &Index) {
    index.tokenizers().register(TOKENIZER, analyzer());
}

/// Handles to the fields of [`schema`].
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Article id (fast, indexed: deletion by term).
    pub id: Field,
    /// The `news.search_version` this document was built from.
    pub version: Field,
    /// Owning org id (filtering by visible orgs).
    pub org_id: Field,
    /// Owning org's materialised path at indexing time (informative; filters use `org_id`).
    pub org_path: Field,
    /// Category id.
    pub category_id: Field,
    /// Category name (searchable).
    pub category: Field,
    /// `draft`, `scheduled`, `published` or `withdrawn`.
    pub status: Field,
    /// Title (searchable, boosted at query time).
    pub title: Field,
    /// Summary and body text (searchable).
    pub body: Field,
    /// Publication time, unix seconds (0 when never published).
    pub published_at: Field,
}

fn text() -> TextOptions {
    // Frequencies for BM25; no positions: queries are term based, which keeps the index small.
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

/// Build the schema and its field handles.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        version: b.add_u64_field("version", FAST | STORED),
        org_id: b.add_u64_field("org_id", INDEXED | FAST),
        org_path: b.add_text_field("org_path", STRING | STORED),
        category_id: b.add_u64_field("category_id", INDEXED | FAST),
        category: b.add_text_field("category", text()),
        status: b.add_text_field("status", STRING),
        title: b.add_text_field("title", text()),
        body: b.add_text_field("body", text()),
        published_at: b.add_i64_field("published_at", INDEXED | FAST | STORED),
    };
    (b.build(), fields)
}

/// What the index needs of one article (loaded from SQLite).
#[derive(Debug, Clone)]
pub struct IndexRow {
    /// Id.
    pub id: i64,
    /// `news.search_version`.
    pub version: i64,
    /// Org id.
    pub org_id: i64,
    /// Org path.
    pub org_path: String,
    /// Category id.
    pub category_id: i64,
    /// Category name.
    pub category: String,
    /// Status.
    pub status: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Plain text of the body.
    pub body_text: String,
    /// Publication time.
    pub published_at: Option<i64>,
}

impl IndexRow {
    /// The tantivy document for this row.
    pub fn document(&self, f: &Fields) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, self.id as u64);
        d.add_u64(f.version, self.version as u64);
        d.add_u64(f.org_id, self.org_id as u64);
        d.add_text(f.org_path, &self.org_path);
        d.add_u64(f.category_id, self.category_id as u64);
        d.add_text(f.category, &self.category);
        d.add_text(f.status, &self.status);
        d.add_text(f.title, &self.title);
        d.add_text(f.body, &self.summary);
        d.add_text(f.body, &self.body_text);
        d.add_i64(f.published_at, self.published_at.unwrap_or(0));
        d
    }
}

/// SQL selecting [`IndexRow`] columns; append a `WHERE` on `n`.
pub const ROW_SQL: &str =
    "SELECT n.id, n.search_version, n.org_id, o.path, n.category_id, c.name, n.status,
    n.title, n.summary, n.body_text, n.published_at
    FROM news n JOIN orgs o ON o.id = n.org_id JOIN news_categories c ON c.id = n.category_id";

/// Map a row of [`ROW_SQL`].
pub fn map_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IndexRow> {
    Ok(IndexRow {
        id: r.get(0)?,
        version: r.get(1)?,
        org_id: r.get(2)?,
        org_path: r.get(3)?,
        category_id: r.get(4)?,
        category: r.get(5)?,
        status: r.get(6)?,
        title: r.get(7)?,
        summary: r.get(8)?,
        body_text: r.get(9)?,
        published_at: r.get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenStream;

    fn tokens(s: &str) -> Vec<String> {
        let mut a = analyzer();
        let mut ts = a.token_stream(s);
        let mut out = vec![];
        while let Some(t) = ts.next() {
            out.push(t.text.clone());
        }
        out
    }

    #[test]
    fn two_character_words_are_tokens_in_queries_and_text() {
        for w in ["工会", "帮扶"] {
            assert!(tokens(w).contains(&w.to_string()), "{w}: {:?}", tokens(w));
        }
        let t = tokens("县总工会开展困难职工帮扶活动，组织劳模疗休养");
        assert!(t.contains(&"工会".to_string()), "{t:?}");
        assert!(t.contains(&"帮扶".to_string()), "{t:?}");
        // Whatever "疗休养" becomes in a query, the same tokens occur in the text.
        for q in tokens("疗休养") {
            assert!(t.contains(&q), "{q} missing in {t:?}");
        }
        assert!(tokens("WeChat").contains(&"wechat".to_string()));
    }
}
