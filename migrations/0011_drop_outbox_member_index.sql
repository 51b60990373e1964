-- `outbox_member` (migration 0007) serves no query: the delivery log lists rows by id and
-- filters by status and kind, the worker picks rows through `outbox_due`, and account erasure
-- does not touch the outbox. Every sign-up and review enqueues a row, and this index put each
-- one into a random page (members in no particular order), a page more for the single writer to
-- write at every commit. Drop it; a future per-member view of deliveries can add it back.
DROP INDEX IF EXISTS outbox_member;
