-- The member news list filters by status and a handful of visible orgs, then sorts by pinned
-- and publication time. The older news_feed index leads with status only, so with 100k
-- articles every list request walked the whole feed and looked up each row's org (~80 ms).
-- This index answers the filter, the sort keys and the category filter from the index alone,
-- so a page's ids are chosen without touching the table rows (covering index).
-- deleted_at is carried as well: SQLite re-checks the partial index's own condition against
-- the row unless the column is in the index.
CREATE INDEX news_member_feed ON news(status, org_id, pinned DESC, published_at DESC, category_id, deleted_at)
    WHERE deleted_at IS NULL;

-- news_feed served only that list; left in place the planner prefers it (it matches part of
-- the ORDER BY) and walks every published article again.
DROP INDEX news_feed;
