//! News request and response shapes.

use serde::{Deserialize, Serialize};

/// A news category.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Sort key (ascending).
    pub sort: i64,
}

/// Create a category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryIn {
    /// Name, 1–20 characters, unique.
    pub name: String,
    /// Sort key, default 0.
    pub sort: Option<i64>,
}

/// Change a category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    /// Name.
    pub name: Option<String>,
    /// Sort key.
    pub sort: Option<i64>,
}

/// Create an article (always a draft; publish it with `POST …/publish`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewsIn {
    /// Owning org (in the caller's scope).
    pub org_id: i64,
    /// Category.
    pub category_id: i64,
    /// Title, 1–100 characters.
    pub title: String,
    /// Summary, up to 300 characters.
    pub summary: Option<String>,
    /// A public image file.
    pub cover_file_id: Option<i64>,
    /// Body HTML (sanitised on save).
    pub body_html: String,
    /// Planned publication time (RFC 3339), used by `publish`.
    pub publish_at: Option<String>,
    /// Pinned to the top of lists.
    pub pinned: Option<bool>,
}

/// Change an article (any status; a published article stays published).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewsPatch {
    /// Owning org.
    pub org_id: Option<i64>,
    /// Category.
    pub category_id: Option<i64>,
    /// Title.
    pub title: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Cover image file.
    pub cover_file_id: Option<i64>,
    /// Body HTML.
    pub body_html: Option<String>,
    /// Planned publication time.
    pub publish_at: Option<String>,
    /// Pinned.
    pub pinned: Option<bool>,
}

/// Body of `POST …/publish` (optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishIn {
    /// Publish at this time; in the future the article becomes `scheduled`.
    pub publish_at: Option<String>,
}

/// An article in a list (no body).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewsItem {
    /// Id.
    pub id: i64,
    /// Org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Category.
    pub category_id: i64,
    /// Category name.
    pub category_name: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Cover file.
    pub cover_file_id: Option<i64>,
    /// Cover URL (`/files/{token}`).
    pub cover_url: Option<String>,
    /// `draft`, `scheduled`, `published` or `withdrawn`.
    pub status: String,
    /// Pinned.
    pub pinned: bool,
    /// Planned publication time.
    pub publish_at: Option<String>,
    /// Publication time.
    pub published_at: Option<String>,
    /// Views.
    pub view_count: i64,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// An article with its body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewsDetail {
    /// List fields.
    #[serde(flatten)]
    pub item: NewsItem,
    /// Sanitised body HTML.
    pub body_html: String,
}

/// A search hit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewsHit {
    /// List fields.
    #[serde(flatten)]
    pub item: NewsItem,
    /// Title, HTML-escaped, query words in `<em>`.
    pub title_highlight: String,
    /// Body fragment, HTML-escaped, query words in `<em>`.
    pub snippet: String,
}
