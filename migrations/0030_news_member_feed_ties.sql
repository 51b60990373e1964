-- The member feed reads each visible org's newest articles with
-- `ORDER BY published_at DESC, id DESC`. In news_member_feed (0009) category_id and deleted_at
-- came between published_at and the row id, so the index gave the order of published_at only
-- and SQLite sorted every slice again in a temporary b-tree to break ties by id ("USE TEMP
-- B-TREE FOR RIGHT PART OF ORDER BY"): set up and torn down eight times per feed request.
-- With id right after published_at the index gives the whole order; category_id and
-- deleted_at follow so the index still answers the category filter and the deleted check
-- without touching the table (covering). Not partial: a partial index's condition is
-- re-checked unless its column is in the index, and here it is.
DROP INDEX news_member_feed;
CREATE INDEX news_member_feed ON news(status, org_id, pinned, published_at, id, deleted_at, category_id);
