-- Inputs and holds of runs that live outside the run: data entries it is granted, uploads it reads,
-- where its steps were placed and the compute it reserved on other clusters.
-- Access grants a run holds for the data catalog entries its job names (archipel:catalog/...): given to
-- the run's owner at submission, given back when the run ends (released_at), found again after a restart.
-- cluster: the peered cluster that granted it (NULL: this cluster); a peer's grant ends at its expiry.
CREATE TABLE run_grants (
  run_id      text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  grant_id    text NOT NULL,
  entry_id    text NOT NULL,
  cluster     text,
  released_at timestamptz,
  PRIMARY KEY (run_id, grant_id)
);
CREATE INDEX run_grants_held_idx ON run_grants (run_id) WHERE released_at IS NULL;

-- The uploads a run reads (its job's and its document's): an upload cannot be deleted while a run that
-- reads it has not ended.
CREATE TABLE run_files (
  run_id  text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  file_id text NOT NULL,
  PRIMARY KEY (run_id, file_id)
);
CREATE INDEX run_files_file_idx ON run_files (file_id);

-- Where a run's steps were placed, and why (the planner's decision), when steps run on other clusters.
ALTER TABLE runs ADD COLUMN placement jsonb;

-- Compute reserved on the peered clusters that run a run's steps: made before anything runs, given back
-- when the run ends (released_at), found again after a restart.
CREATE TABLE run_reservations (
  run_id         text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step           text NOT NULL,
  cluster        text NOT NULL,
  reservation_id text NOT NULL,
  released_at    timestamptz,
  PRIMARY KEY (run_id, reservation_id)
);
CREATE INDEX run_reservations_held_idx ON run_reservations (run_id) WHERE released_at IS NULL;
