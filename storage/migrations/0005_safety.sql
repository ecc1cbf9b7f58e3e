-- Prompt filter rules, abuse alerts, key suspensions and daily token quotas.
CREATE TABLE filter_rules (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('phrase', 'regex')),
  pattern    TEXT NOT NULL,
  applies_to TEXT NOT NULL CHECK (applies_to IN ('input', 'output', 'both')),
  created_at INTEGER NOT NULL
);

-- A key stays suspended until an admin lifts it (suspended_at back to NULL).
ALTER TABLE api_keys ADD COLUMN suspended_at INTEGER;
ALTER TABLE api_keys ADD COLUMN suspended_reason TEXT;
ALTER TABLE api_keys ADD COLUMN token_quota_daily INTEGER;

-- Tokens (prompt and completion) a key consumed per UTC day.
CREATE TABLE key_token_usage (
  key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
  day    INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  PRIMARY KEY (key_id, day)
);

-- A threshold a key crossed; open until an admin lifts the suspension.
CREATE TABLE abuse_alerts (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id     TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  signal     TEXT NOT NULL,
  detail     TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  lifted_at  INTEGER
);
CREATE INDEX abuse_alerts_by_key ON abuse_alerts(key_id);
