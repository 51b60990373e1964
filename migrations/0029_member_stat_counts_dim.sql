-- Member totals (list totals, dashboard, stats by status) read only the `all` rows of the
-- per-org counts: one per org and status. The primary key starts with org_id, so without this
-- index every total scanned the whole table, whose other dimensions (gender, birth year, join
-- month) grow with orgs × months: thousands of rows in a county, hundreds of thousands in a
-- prefecture (measured by the S8 bench: the root admin's member list page scanned it per view).
CREATE INDEX member_stat_counts_dim ON member_stat_counts (dim, key, org_id, status);
