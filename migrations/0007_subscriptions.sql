-- WeChat one-time subscription credits, outbox outcome reasons and message read counters.
--
-- Each acceptance in wx.requestSubscribeMessage allows one send of that template to that
-- member: `subscription_credits` counts them; the outbox worker spends one per sent message in
-- the same writer job that marks the row sent.
CREATE TABLE subscription_credits (
    member_id    INTEGER NOT NULL REFERENCES members(id),
    template_id  TEXT NOT NULL,
    credits      INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (member_id, template_id)
) WITHOUT ROWID;

-- `outbox.status` has a CHECK constraint SQLite cannot alter, so a row that was deliberately not
-- sent keeps status 'failed' and says why here: `skipped_no_template`, `skipped_no_openid`,
-- `skipped_no_credit`, `skipped_not_configured`, `unsupported_kind`, `bad_payload` (never
-- sent), `wechat_rejected` (40003/40037/47003/41030), `max_attempts` (transient errors until
-- the attempt limit). The API shows `skipped_*` rows with status `skipped`. NULL otherwise.
ALTER TABLE outbox ADD COLUMN reason_code TEXT;
CREATE INDEX outbox_member ON outbox(member_id, id);

-- Members who have read a message (explicitly or through read-all), so per-message statistics
-- are one column read instead of a count over every possible recipient.
ALTER TABLE messages ADD COLUMN read_count INTEGER NOT NULL DEFAULT 0;
