-- Issue 22, what was still missing: review photos held for moderation, reply deadlines in
-- working hours or working days, and a generation counter that tells the cached
-- sensitive-word automaton when the list changed.

-- Photos a member adds to their activity review. Shown to other members in the activity's
-- reviews only while `held` = 0; held photos wait in the moderation queue (`review_image`).
CREATE TABLE activity_review_images (
    id               INTEGER PRIMARY KEY,
    registration_id  INTEGER NOT NULL REFERENCES activity_registrations(id),
    activity_id      INTEGER NOT NULL REFERENCES activities(id),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    file_id          INTEGER NOT NULL REFERENCES files(id),
    -- 0 visible, 1 held for moderation, 2 rejected by moderation.
    held             INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= 2),
    created_at       INTEGER NOT NULL
);
CREATE INDEX activity_review_images_reg ON activity_review_images(registration_id, id);
CREATE INDEX activity_review_images_file ON activity_review_images(file_id);

-- Deadlines: an amount of working hours (09:00–17:00 on working days by default) or of
-- working days (the day it arrives not counted; due at the end of the last one). The old
-- column keeps its bounds and now holds the amount in the category's unit.
ALTER TABLE ticket_categories RENAME COLUMN deadline_hours TO deadline_amount;
ALTER TABLE ticket_categories ADD COLUMN deadline_unit TEXT NOT NULL DEFAULT 'work_hours'
    CHECK (deadline_unit = 'work_hours' OR deadline_unit = 'work_days');
-- The seeded calendar-hour deadlines become the working days they stood for.
UPDATE ticket_categories SET deadline_unit = 'work_days', deadline_amount = deadline_amount / 24
    WHERE id <= 5 AND deadline_amount IN (24, 48, 72)
      AND code IN ('rights', 'policy', 'suggestion', 'complaint', 'other');

-- Bumped by every change of the word list, in the writer transaction that changed it; the
-- automaton is rebuilt only when the generation it was built from is no longer current.
CREATE TABLE sensitive_words_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO sensitive_words_generation (id, generation) VALUES (1, 1);
CREATE TRIGGER sensitive_words_gen_insert AFTER INSERT ON sensitive_words BEGIN
    UPDATE sensitive_words_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sensitive_words_gen_update AFTER UPDATE ON sensitive_words BEGIN
    UPDATE sensitive_words_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER sensitive_words_gen_delete AFTER DELETE ON sensitive_words BEGIN
    UPDATE sensitive_words_generation SET generation = generation + 1 WHERE id = 1;
END;

-- Ticket categories (deadlines) apply to every org: only the system admin edits them.
INSERT INTO role_permissions (role_id, code) VALUES (1, 'ticket:category');
