-- Issue 17, items 9, 11 and 15: unguessable public file URLs, the objects through which staff
-- reach a member's file, and the check-in method an activity requires.

-- A public file is named in its URL by a random token (`/files/{token}`), so public files can no
-- longer be listed by counting ids. Public files stored before this migration get a token as well
-- (every link the server builds from now on uses it) and keep answering at their old numeric URL,
-- which published articles may already embed; files stored from now on answer only by token.
ALTER TABLE files ADD COLUMN public_token TEXT;
ALTER TABLE files ADD COLUMN legacy_id_url INTEGER NOT NULL DEFAULT 0
    CHECK (legacy_id_url = 0 OR legacy_id_url = 1);
UPDATE files SET public_token = lower(hex(randomblob(16))), legacy_id_url = 1
WHERE visibility = 'public';
CREATE UNIQUE INDEX files_public_token ON files(public_token);
-- A member's uploads of the last day, for the per-account quota checked at every upload.
CREATE INDEX files_owner_created ON files(owner_type, owner_id, created_at);

-- Which object refers to an uploaded file. Staff reach a member's file through the objects that
-- refer to it (a registration: the organising activity's org), never through the uploader's org.
CREATE TABLE file_refs (
    file_id   INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    -- `activity_registration`: an image answer of a registration form.
    ref_type  TEXT NOT NULL,
    ref_id    INTEGER NOT NULL,
    PRIMARY KEY (file_id, ref_type, ref_id)
) WITHOUT ROWID;
CREATE INDEX file_refs_ref ON file_refs(ref_type, ref_id);

-- Image answers of registrations stored before this migration: the template's `image` fields,
-- files the registrant uploaded (the rule registration enforced).
INSERT OR IGNORE INTO file_refs (file_id, ref_type, ref_id)
SELECT f.id, 'activity_registration', r.id
FROM activity_registrations r
JOIN activities a ON a.id = r.activity_id
JOIN form_templates t ON t.id = a.form_template_id
JOIN json_each(t.fields) fd
JOIN files f ON f.id = json_extract(r.answers, '$."' || json_extract(fd.value, '$.key') || '"')
WHERE json_extract(fd.value, '$.type') = 'image'
  AND f.owner_type = 'member' AND f.owner_id = r.member_id;

-- `any`: the rotating QR code or the member's position; `qr`: only the QR code shown at the
-- venue (a position sent by a phone can be made up).
ALTER TABLE activities ADD COLUMN checkin_method TEXT NOT NULL DEFAULT 'any'
    CHECK (checkin_method = 'any' OR checkin_method = 'qr');
