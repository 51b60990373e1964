-- Issue 23: the staff principal cache. The writer's update hook tells the cache about every
-- changed row of a rowid table; role grants, role permissions and custom role orgs live in
-- WITHOUT ROWID tables, which the hook does not report, so their triggers bump this one row
-- instead (in the same transaction as the change), and the cache forgets every principal.
CREATE TABLE auth_changes (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO auth_changes (id, n) VALUES (1, 0);

CREATE TRIGGER admin_roles_changed_i AFTER INSERT ON admin_roles
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER admin_roles_changed_u AFTER UPDATE ON admin_roles
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER admin_roles_changed_d AFTER DELETE ON admin_roles
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_permissions_changed_i AFTER INSERT ON role_permissions
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_permissions_changed_u AFTER UPDATE ON role_permissions
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_permissions_changed_d AFTER DELETE ON role_permissions
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_orgs_changed_i AFTER INSERT ON role_orgs
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_orgs_changed_u AFTER UPDATE ON role_orgs
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER role_orgs_changed_d AFTER DELETE ON role_orgs
BEGIN UPDATE auth_changes SET n = n + 1 WHERE id = 1; END;
