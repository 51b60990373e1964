-- News: ordered categories and sanitised articles with a publishing life cycle
-- (draft → scheduled → published → withdrawn; deletion is soft so the search index can be
-- told). `search_version` is bumped from one global sequence on every change that the search
-- index must see; the index stores the version it holds, so a restart can compare the two.

CREATE TABLE news_categories (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    sort        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE news (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    category_id     INTEGER NOT NULL REFERENCES news_categories(id),
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    cover_file_id   INTEGER REFERENCES files(id),
    -- Sanitised HTML as served; `body_text` is its plain text for search and snippets.
    body_html       TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'withdrawn')),
    pinned          INTEGER NOT NULL DEFAULT 0,
    publish_at      INTEGER,
    published_at    INTEGER,
    view_count      INTEGER NOT NULL DEFAULT 0,
    search_version  INTEGER NOT NULL,
    created_by      INTEGER REFERENCES admins(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER
);
CREATE INDEX news_feed ON news(status, pinned DESC, published_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX news_org ON news(org_id);
CREATE INDEX news_category ON news(category_id);
CREATE INDEX news_due ON news(publish_at) WHERE status = 'scheduled' AND deleted_at IS NULL;
CREATE INDEX news_search_version ON news(search_version);

-- The global change counter behind `news.search_version` (one row).
CREATE TABLE news_search_seq (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL
);
INSERT INTO news_search_seq (id, seq) VALUES (1, 0);

INSERT INTO news_categories (name, sort, created_at, updated_at) VALUES
    ('工会要闻', 10, 0, 0), ('通知公告', 20, 0, 0), ('政策法规', 30, 0, 0), ('基层动态', 40, 0, 0);
