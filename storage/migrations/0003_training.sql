-- Datasets, training jobs with their events, and the model registry.
CREATE TABLE datasets (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('text', 'chat')),
  bytes      INTEGER NOT NULL,
  sha256     TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE models (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  parent_id  TEXT,
  job_id     TEXT,
  n_params   INTEGER NOT NULL DEFAULT 0,
  config     TEXT NOT NULL DEFAULT '{}',
  metrics    TEXT NOT NULL DEFAULT '{}',
  status     TEXT NOT NULL CHECK (status IN ('ready', 'active', 'archived')),
  path       TEXT NOT NULL
);

CREATE TABLE jobs (
  id              TEXT PRIMARY KEY,
  type            TEXT NOT NULL CHECK (type IN ('pretrain', 'finetune')),
  status          TEXT NOT NULL CHECK (status IN ('queued', 'preparing',
                    'running', 'succeeded', 'failed', 'cancelled')),
  request         TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  progress        TEXT NOT NULL DEFAULT '{}',
  result_model_id TEXT,
  error           TEXT
);
CREATE INDEX jobs_by_status ON jobs(status);

CREATE TABLE job_datasets (
  job_id     TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  dataset_id TEXT NOT NULL REFERENCES datasets(id),
  PRIMARY KEY (job_id, dataset_id)
);

CREATE TABLE job_events (
  job_id     TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  type       TEXT NOT NULL,
  payload    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, seq)
);
