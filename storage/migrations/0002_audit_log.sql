-- Every admin action: who did what to which object, and when. Never a key's
-- secret (keys are named by id).
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id     TEXT NOT NULL,
  key_id      TEXT NOT NULL,
  action      TEXT NOT NULL,
  target      TEXT NOT NULL DEFAULT '',
  status      INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log(created_at DESC);
