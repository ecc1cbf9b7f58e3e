-- Users, API keys, chat sessions and their messages.
CREATE TABLE users (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id             TEXT PRIMARY KEY,
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name           TEXT NOT NULL DEFAULT '',
  prefix         TEXT NOT NULL,
  secret_hash    BLOB NOT NULL UNIQUE,
  scopes         TEXT NOT NULL,
  rate_limit_rpm INTEGER,
  max_streams    INTEGER,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER,
  revoked_at     INTEGER
);
CREATE INDEX api_keys_by_user ON api_keys(user_id);
CREATE INDEX api_keys_by_prefix ON api_keys(prefix);

CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title         TEXT NOT NULL DEFAULT '',
  system_prompt TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  message_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_user ON sessions(user_id, created_at DESC);

CREATE TABLE messages (
  id            TEXT PRIMARY KEY,
  session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq           INTEGER NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content       TEXT NOT NULL,
  tokens        INTEGER NOT NULL DEFAULT 0,
  finish_reason TEXT,
  created_at    INTEGER NOT NULL,
  UNIQUE (session_id, seq)
);
