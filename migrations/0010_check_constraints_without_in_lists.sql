-- The CHECK constraints of the rows written on every sign-up, message, outbox row and member
-- import, written as OR chains instead of IN lists.
--
-- SQLite evaluates `x IN ('a', 'b', 'c')` with three or more constants by building a temporary
-- index of the constants each time the statement runs: one such index per CHECK for every row
-- inserted (and for every update that sets the column), a visible share of the single writer's
-- time under a registration burst. `x = 'a' OR x = 'b' OR x = 'c'` accepts exactly the same
-- values (NULL included), so no stored row needs re-checking.
--
-- Only the constraint text changes, which is the procedure SQLite documents for changing CHECK
-- constraints without rebuilding a table (ALTER TABLE, "Making Other Kinds Of Table Schema
-- Changes"): edit the schema text with writable_schema, reload it, and bump the schema cookie so
-- every other connection reloads it too (any DDL statement bumps it).

PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (status IN (''pending'', ''approved'', ''rejected'', ''cancelled''))',
    'CHECK (status = ''pending'' OR status = ''approved'' OR status = ''rejected'' OR status = ''cancelled'')')
WHERE type = 'table' AND name = 'activity_registrations';

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (kind IN (''broadcast'', ''direct'', ''event''))',
    'CHECK (kind = ''broadcast'' OR kind = ''direct'' OR kind = ''event'')')
WHERE type = 'table' AND name = 'messages';

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (status IN (''pending'', ''sent'', ''refused'', ''failed''))',
    'CHECK (status = ''pending'' OR status = ''sent'' OR status = ''refused'' OR status = ''failed'')')
WHERE type = 'table' AND name = 'outbox';

UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (status IN (''registered'', ''pending'', ''active'', ''rejected'', ''left'', ''deleted''))',
    'CHECK (status = ''registered'' OR status = ''pending'' OR status = ''active'' OR status = ''rejected'' OR status = ''left'' OR status = ''deleted'')')
WHERE type = 'table' AND name = 'members';

PRAGMA writable_schema = RESET;

CREATE TABLE migration_0010_schema_bump (x);
DROP TABLE migration_0010_schema_bump;
