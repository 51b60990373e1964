-- Benefits (权益普惠) with stock and claim codes, the points ledger (积分) and the points mall
-- (积分商城).
--
-- No oversell: the writer checks stock and the member's limit inside the job that inserts, and
-- the CHECK constraints on the counters (`claimed <= stock`, `sold <= stock`, `balance >= 0`)
-- refuse a row that would break them even if some future code path forgot to. CHECKs on the
-- hot tables are OR chains, not IN lists (see 0010).

CREATE TABLE benefits (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id),
    title             TEXT NOT NULL,
    -- 'goods' 实物, 'voucher' 券, 'service' 服务.
    kind              TEXT NOT NULL CHECK (kind = 'goods' OR kind = 'voucher' OR kind = 'service'),
    -- Sanitised HTML.
    description       TEXT NOT NULL DEFAULT '',
    cover_file_id     INTEGER REFERENCES files(id),
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    stock             INTEGER NOT NULL CHECK (stock > 0),
    -- Claims made so far; kept in the same job as the claim row.
    claimed           INTEGER NOT NULL DEFAULT 0 CHECK (claimed >= 0 AND claimed <= stock),
    per_member_limit  INTEGER NOT NULL CHECK (per_member_limit >= 1),
    -- Only members who joined before this time (unix seconds), when set.
    joined_before     INTEGER,
    -- 'code': shown at a counter and redeemed by staff; 'none': nothing to redeem.
    redeem_method     TEXT NOT NULL CHECK (redeem_method = 'code' OR redeem_method = 'none'),
    status            TEXT NOT NULL DEFAULT 'draft'
                      CHECK (status = 'draft' OR status = 'published' OR status = 'closed'),
    created_by        INTEGER REFERENCES admins(id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    published_at      INTEGER,
    closed_at         INTEGER,
    CHECK (ends_at > starts_at)
);
CREATE INDEX benefits_org ON benefits(org_id, status);
CREATE INDEX benefits_status_start ON benefits(status, starts_at);

CREATE TABLE benefit_claims (
    id           INTEGER PRIMARY KEY,
    benefit_id   INTEGER NOT NULL REFERENCES benefits(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    -- The member's org when claiming (statistics by org).
    org_id       INTEGER REFERENCES orgs(id),
    -- Shown to the member and typed or scanned at the counter.
    code         TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status = 'claimed' OR status = 'redeemed'),
    created_at   INTEGER NOT NULL,
    redeemed_at  INTEGER,
    redeemed_by  INTEGER REFERENCES admins(id)
);
CREATE INDEX benefit_claims_benefit ON benefit_claims(benefit_id, id);
CREATE INDEX benefit_claims_member ON benefit_claims(member_id, benefit_id);

-- The cached balance of each member; always equal to the sum of the member's ledger rows
-- (`gonghui check` reports any member where it is not).
CREATE TABLE points_accounts (
    member_id        INTEGER PRIMARY KEY REFERENCES members(id),
    balance          INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at       INTEGER NOT NULL
);

-- Append-only: rows are never changed or removed (triggers below).
CREATE TABLE points_ledger (
    id             INTEGER PRIMARY KEY,
    member_id      INTEGER NOT NULL REFERENCES members(id),
    delta          INTEGER NOT NULL CHECK (delta <> 0),
    balance_after  INTEGER NOT NULL CHECK (balance_after >= 0),
    source_type    TEXT NOT NULL CHECK (source_type = 'activity_checkin' OR source_type = 'membership'
                       OR source_type = 'sign_in' OR source_type = 'admin_adjust' OR source_type = 'mall_order'
                       OR source_type = 'mall_refund' OR source_type = 'expiry'),
    -- Registration, application, day number, audit row, order, … by source type.
    source_id      INTEGER NOT NULL,
    reason         TEXT,
    operator_id    INTEGER REFERENCES admins(id),
    created_at     INTEGER NOT NULL,
    -- The idempotency key: one credit or debit per source event and member.
    UNIQUE (source_type, source_id, member_id)
);
CREATE INDEX points_ledger_member ON points_ledger(member_id, id);

CREATE TRIGGER points_ledger_no_update BEFORE UPDATE ON points_ledger
BEGIN
    SELECT RAISE(ABORT, 'points_ledger is append-only');
END;

CREATE TRIGGER points_ledger_no_delete BEFORE DELETE ON points_ledger
BEGIN
    SELECT RAISE(ABORT, 'points_ledger is append-only');
END;

CREATE TABLE mall_goods (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id),
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    cover_file_id     INTEGER REFERENCES files(id),
    points_price      INTEGER NOT NULL CHECK (points_price > 0),
    stock             INTEGER NOT NULL CHECK (stock >= 0),
    -- Units in live orders (pending pickup or fulfilled); a cancel gives them back.
    sold              INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0 AND sold <= stock),
    per_member_limit  INTEGER NOT NULL CHECK (per_member_limit >= 1),
    on_shelf          INTEGER NOT NULL DEFAULT 0,
    created_by        INTEGER REFERENCES admins(id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX mall_goods_org ON mall_goods(org_id, on_shelf);

CREATE TABLE mall_orders (
    id             INTEGER PRIMARY KEY,
    goods_id       INTEGER NOT NULL REFERENCES mall_goods(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    -- The goods' org: staff scope follows the goods.
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    points         INTEGER NOT NULL CHECK (points > 0),
    pickup_code    TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status = 'pending' OR status = 'fulfilled' OR status = 'cancelled'),
    created_at     INTEGER NOT NULL,
    fulfilled_at   INTEGER,
    fulfilled_by   INTEGER REFERENCES admins(id),
    cancelled_at   INTEGER,
    -- 'member' or 'admin', with the admin's id.
    cancelled_by_kind TEXT,
    cancelled_by   INTEGER REFERENCES admins(id),
    cancel_reason  TEXT
);
CREATE INDEX mall_orders_member ON mall_orders(member_id, id);
CREATE INDEX mall_orders_goods ON mall_orders(goods_id, member_id);
CREATE INDEX mall_orders_org ON mall_orders(org_id, status, id);

-- Points already recorded on attended registrations enter the ledger once, in order.
INSERT INTO points_ledger (member_id, delta, balance_after, source_type, source_id, reason, created_at)
SELECT member_id, points_awarded,
       sum(points_awarded) OVER (PARTITION BY member_id ORDER BY id ROWS UNBOUNDED PRECEDING),
       'activity_checkin', id, '活动签到', coalesce(checked_in_at, created_at)
FROM activity_registrations
WHERE checked_in_at IS NOT NULL AND points_awarded > 0;

INSERT INTO points_accounts (member_id, balance, updated_at)
SELECT member_id, sum(delta), max(created_at) FROM points_ledger GROUP BY member_id;

-- The built-in county admin (4) and grassroots clerk (5) run benefits, points and the mall.
INSERT INTO role_permissions (role_id, code) VALUES
    (4, 'benefit:read'), (4, 'benefit:write'), (4, 'benefit:redeem'), (4, 'benefit:export'),
    (4, 'points:adjust'),
    (5, 'benefit:read'), (5, 'benefit:write'), (5, 'benefit:redeem'), (5, 'benefit:export'),
    (5, 'points:adjust');
