-- Issue 17, personal data (items 2, 8, 10).
--
-- Item 2: the ID mask keeps the 6-digit region and the last 2 characters. The old mask kept the
-- last 4, so the hidden part was exactly the 8-digit birth date: with the birth date shown
-- beside it (or known to a colleague) the whole number was back. Stored masks are re-derived
-- from the old mask itself (no decryption needed); a value already in the new shape, or of any
-- other shape, is left alone, so the statement is idempotent.
UPDATE members
SET id_masked = substr(id_masked, 1, 6) || '**********' || substr(id_masked, 17, 2)
WHERE length(id_masked) = 18 AND substr(id_masked, 7, 8) = '********'
  AND substr(id_masked, 15, 2) <> '**';

-- Item 8: when the person behind the account proved the real-name identity: by typing the
-- name and ID number in themselves (realname), or by the identity proof of a record that staff
-- created. Accounts that entered their own real name count as proven.
ALTER TABLE members ADD COLUMN identity_confirmed_at INTEGER;
UPDATE members SET identity_confirmed_at = realname_verified_at
WHERE created_by IS NULL AND realname_verified_at IS NOT NULL;

-- Items 8 and 10: attempts at identity-bearing member actions, counted inside the writer job
-- before anything is evaluated, for per-member and per-IP limits.
CREATE TABLE member_attempts (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members(id),
    kind       TEXT NOT NULL CHECK (kind = 'realname' OR kind = 'identity'),
    ip         TEXT NOT NULL DEFAULT '',
    success    INTEGER NOT NULL DEFAULT 0,
    at         INTEGER NOT NULL
);
CREATE INDEX member_attempts_member ON member_attempts(member_id, kind, at);
CREATE INDEX member_attempts_ip ON member_attempts(ip, kind, at);

-- Item 10: a real-name submission refused because another account holds the ID number, kept
-- for staff to resolve (release the number from a squatting account, or dismiss).
CREATE TABLE realname_conflicts (
    id           INTEGER PRIMARY KEY,
    claimant_id  INTEGER NOT NULL REFERENCES members(id),
    holder_id    INTEGER NOT NULL REFERENCES members(id),
    id_bidx      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'released' OR status = 'dismissed'),
    created_at   INTEGER NOT NULL,
    resolved_by  INTEGER REFERENCES admins(id),
    resolved_at  INTEGER
);
CREATE UNIQUE INDEX realname_conflicts_open ON realname_conflicts(claimant_id, holder_id) WHERE status = 'open';
CREATE INDEX realname_conflicts_status ON realname_conflicts(status, id);
