//! The local sensitive-word list: normalisation, Aho-Corasick matching, and its staff routes
//! (list in any scope; add and delete only for staff whose scope covers the whole tree, since
//! the list applies to every org).

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use aho_corasick::AhoCorasick;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Levels of a word.
pub const LEVELS: &[&str] = &["block", "review"];

/// Normalise text for matching: full-width forms to half-width, lower case, every whitespace
/// character removed, so `Ｄａｉ Ｋａｉ` and `daikai` match the same word.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = match c as u32 {
                0x3000 => ' ',
                0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            };
            (!c.is_whitespace()).then_some(c)
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// What the local list says about a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Local {
    /// No word matched.
    Pass,
    /// A `review` word matched (the word, for the moderator).
    Review(String),
    /// A `block` word matched.
    Block,
}

/// The automaton of one generation of the word list.
#[derive(Debug)]
pub struct Matcher {
    /// `sensitive_words_generation.generation` it was built from.
    pub generation: i64,
    /// `None` for an empty list.
    ac: Option<AhoCorasick>,
    /// `(normalized, level)` by pattern index.
    words: Vec<(String, String)>,
}

/// The automaton of the current word list, kept between checks. Every change of the list bumps
/// a generation counter in the same transaction (triggers of migration 0026), so a check reads
/// one integer and rebuilds only when the list changed since the automaton was built.
#[derive(Debug, Default)]
pub struct WordCache(std::sync::RwLock<Option<std::sync::Arc<Matcher>>>);

impl WordCache {
    /// The matcher for the list as `c` sees it now (built on a miss, inside the caller's
    /// database job, never on the async executor).
    pub fn matcher(&self, c: &Connection) -> Result<std::sync::Arc<Matcher>> {
        let generation: i64 = c
            .prepare_cached("SELECT generation FROM sensitive_words_generation WHERE id = 1")?
            .query_row([], |r| r.get(0))?;
        if let Some(m) = self.0.read().ok().and_then(|g| g.clone())
            && m.generation == generation
        {
            return Ok(m);
        }
        // The words are read after the generation: a change committed in between is labelled
        // with the older generation, so the next check sees a newer one and rebuilds.
        let words: Vec<(String, String)> = c
            .prepare_cached("SELECT normalized, level FROM sensitive_words ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let ac = if words.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(words.iter().map(|w| w.0.as_str())).map_err(AppError::internal)?)
        };
        let m = std::sync::Arc::new(Matcher {
            generation,
            ac,
            words,
        });
        if let Ok(mut g) = self.0.write() {
            // Never replace a newer automaton with an older one built concurrently.
            if g.as_ref().is_none_or(|cur| cur.generation <= generation) {
                *g = Some(m.clone());
            }
        }
        Ok(m)
    }
}

/// Match `text` against the stored list in one pass over the cached automaton; a block word
/// wins over a review word.
pub fn check(c: &Connection, cache: &WordCache, text: &str) -> Result<Local> {
    let m = cache.matcher(c)?;
    let Some(ac) = &m.ac else {
        return Ok(Local::Pass);
    };
    let norm = normalise(text);
    let mut review = None;
    for hit in ac.find_overlapping_iter(&norm) {
        let (w, level) = &m.words[hit.pattern().as_usize()];
        if level == "block" {
            return Ok(Local::Block);
        }
        review.get_or_insert_with(|| w.clone());
    }
    Ok(review.map_or(Local::Pass, Local::Review))
}

/// A word of the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Word {
    /// Id.
    pub id: i64,
    /// The word as entered.
    pub word: String,
    /// `block` (refuse) or `review` (hold for moderation).
    pub level: String,
    /// Added at.
    pub created_at: String,
}

/// Filters of the word list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WordQuery {
    /// `block` or `review`.
    #[param(pattern = "^(block|review)$")]
    pub level: Option<String>,
    /// Part of the word.
    #[param(max_length = 50)]
    pub q: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// The sensitive-word list, newest first.
#[utoipa::path(get, path = "/api/v1/admin/sensitive-words", tag = "内容安全", security(("bearer" = [])), params(WordQuery),
    responses((status = 200, body = Page<Word>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<WordQuery>,
) -> Result<Response> {
    me.require(codes::SAFETY_MANAGE)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let level = q.level.filter(|s| !s.is_empty());
    if level.as_deref().is_some_and(|l| !LEVELS.contains(&l)) {
        return Err(AppError::field("level", "级别只能是 block 或 review"));
    }
    let text = q.q.map(|s| normalise(&s)).filter(|s| !s.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > 50) {
        return Err(AppError::field("q", "关键词不能超过 50 个字符"));
    }
    let p = vec![
        level.map_or(Value::Null, Value::Text),
        text.map_or(Value::Null, Value::Text),
    ];
    let wh = "(?1 IS NULL OR level = ?1) AND (?2 IS NULL OR instr(normalized, ?2) > 0)";
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM sensitive_words WHERE {wh}"),
                &format!("SELECT id, word, level, created_at FROM sensitive_words WHERE {wh} ORDER BY id DESC LIMIT ?3 OFFSET ?4"),
                p,
                pg,
                |r| {
                    Ok(Word {
                        id: r.get(0)?,
                        word: r.get(1)?,
                        level: r.get(2)?,
                        created_at: crate::time::fmt(r.get(3)?),
                    })
                },
            )
        })
        .await?;
    Ok(ok(out))
}

/// A word to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WordIn {
    /// The word, 1 to 50 characters.
    #[schema(min_length = 1, max_length = 50)]
    pub word: String,
    /// `block` refuses content containing it; `review` holds it for moderation.
    #[schema(value_type = String, pattern = "^(block|review)$")]
    pub level: String,
}

/// Add a word (the whole tree must be in the caller's scope: the list applies everywhere).
#[utoipa::path(post, path = "/api/v1/admin/sensitive-words", tag = "内容安全", security(("bearer" = [])), request_body = WordIn,
    responses((status = 201, body = Word), (status = 400), (status = 403), (status = 409, description = "word_exists")))]
pub async fn add(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<WordIn>,
) -> Result<Response> {
    let scope = me.require(codes::SAFETY_MANAGE)?;
    let mut ck = crate::validate::Check::new();
    let word = ck.text("word", "敏感词", &req.word, 50);
    ck.one_of("level", "级别", &req.level, LEVELS);
    let norm = normalise(&word);
    if !word.is_empty() && norm.is_empty() {
        ck.fail("word", "敏感词不能只有空白");
    }
    ck.finish()?;
    let (actor, by, level) = (me.actor(), me.id, req.level);
    let out = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "敏感词库")?;
            let now = crate::time::now();
            let r = c.execute(
                "INSERT INTO sensitive_words (word, normalized, level, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![word, norm, level, by, now],
            );
            match r {
                Err(e) if crate::error::is_unique_violation(&e) => {
                    return Err(AppError::conflict_code("word_exists", "该敏感词已在词库中"));
                }
                r => r?,
            };
            let id = c.last_insert_rowid();
            audit::record(c, &actor, &Entry::success("safety.word_add", "sensitive_word", id, json!({"level": level})))?;
            Ok(Word {
                id,
                word,
                level,
                created_at: crate::time::fmt(now),
            })
        })
        .await?;
    Ok(created(out))
}

/// Delete a word (whole-tree scope, as for adding).
#[utoipa::path(delete, path = "/api/v1/admin/sensitive-words/{id}", tag = "内容安全", security(("bearer" = [])),
    params(("id" = i64, Path, description = "敏感词 ID")), responses((status = 200), (status = 403), (status = 404)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::SAFETY_MANAGE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            scope.require_whole_tree(c, "敏感词库")?;
            let level: String = c
                .query_row(
                    "SELECT level FROM sensitive_words WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(|_| AppError::NotFound)?;
            c.execute("DELETE FROM sensitive_words WHERE id = ?1", [id])?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "safety.word_delete",
                    "sensitive_word",
                    id,
                    json!({"level": level}),
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({"id": id, "deleted": true})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_full_width_case_and_spaces() {
        assert_eq!(normalise("Ｄａｉ　Kai\t票"), "daikai票");
        assert_eq!(normalise("代 开 发 票"), "代开发票");
    }

    #[test]
    fn block_wins_and_review_names_the_word() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        let k = WordCache::default();
        assert_eq!(check(&c, &k, "工会活动真好").unwrap(), Local::Pass);
        assert_eq!(
            check(&c, &k, "这是 群 体 事 件").unwrap(),
            Local::Review("群体事件".into())
        );
        assert_eq!(check(&c, &k, "群体事件和代开发票").unwrap(), Local::Block);
    }

    #[test]
    fn the_automaton_is_rebuilt_only_when_the_list_changes() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        let k = WordCache::default();
        let first = k.matcher(&c).unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &k.matcher(&c).unwrap()));
        assert_eq!(check(&c, &k, "买彩票").unwrap(), Local::Pass);
        // Adding a word bumps the generation in the same statement's transaction.
        c.execute(
            "INSERT INTO sensitive_words (word, normalized, level, created_at) VALUES ('彩票', '彩票', 'block', 0)",
            [],
        )
        .unwrap();
        assert_eq!(check(&c, &k, "买彩票").unwrap(), Local::Block);
        let second = k.matcher(&c).unwrap();
        assert!(!std::sync::Arc::ptr_eq(&first, &second));
        assert!(second.generation > first.generation);
        assert!(std::sync::Arc::ptr_eq(&second, &k.matcher(&c).unwrap()));
        // Deleting it (or changing its level) is seen at the next check too.
        c.execute(
            "UPDATE sensitive_words SET level = 'review' WHERE word = '彩票'",
            [],
        )
        .unwrap();
        assert_eq!(
            check(&c, &k, "买彩票").unwrap(),
            Local::Review("彩票".into())
        );
        c.execute("DELETE FROM sensitive_words WHERE word = '彩票'", [])
            .unwrap();
        assert_eq!(check(&c, &k, "买彩票").unwrap(), Local::Pass);
        // A rolled-back change leaves the cached automaton current.
        let before = k.matcher(&c).unwrap();
        let tx = c.transaction().unwrap();
        tx.execute("DELETE FROM sensitive_words", []).unwrap();
        tx.rollback().unwrap();
        assert!(std::sync::Arc::ptr_eq(&before, &k.matcher(&c).unwrap()));
    }
}
