-- Workflow runs of the node's users (orchestrator/runs), their CWL steps, and the events a run's
-- watchers read (resumable by id), plus the files users upload as run inputs.
CREATE TABLE uploaded_files (
  id          text PRIMARY KEY,
  owner_id    text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- A project name: its members may use the file too. NULL: only the owner.
  project     text,
  name        text NOT NULL,
  size        bigint NOT NULL,
  sha256      text NOT NULL,
  object_key  text NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE INDEX uploaded_files_owner_idx ON uploaded_files (owner_id, created_at DESC);

CREATE TABLE runs (
  id            text PRIMARY KEY,
  project       text NOT NULL,
  owner_id      text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  owner_name    text NOT NULL,
  name          text NOT NULL,
  labels        jsonb NOT NULL DEFAULT '{}',
  phase         text NOT NULL CHECK (phase IN ('Pending', 'Running', 'Succeeded', 'Failed', 'Error')),
  message       text,
  -- The CWL document as submitted, content-addressed in the object store (documents/sha256-<hex>).
  document_key  text NOT NULL,
  document_sha256 text NOT NULL,
  process_class text NOT NULL,
  -- The job as submitted (file references as given).
  job           jsonb NOT NULL,
  -- The run's prefix in the node's object store (runs/<id>): inputs, step results, outputs.
  scope         text NOT NULL,
  -- The translated Argo Workflow and the workflow-engine run that executes it.
  manifest      jsonb NOT NULL,
  engine_name   text,
  attempt       integer NOT NULL DEFAULT 1,
  outputs       jsonb,
  -- Where the outputs are to be written (a storage catalog entry and a prefix), and where they were.
  output_target   jsonb,
  output_location jsonb,
  created_at    timestamptz NOT NULL,
  started_at    timestamptz,
  finished_at   timestamptz
);
CREATE INDEX runs_project_idx ON runs (project, created_at DESC);
CREATE INDEX runs_unfinished_idx ON runs (phase) WHERE phase IN ('Pending', 'Running');

CREATE TABLE run_steps (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  -- The CWL step path (`step`, `outer/inner` in subworkflows).
  step   text NOT NULL,
  -- The step's place in the workflow (document order, subworkflow steps before their own).
  position integer NOT NULL,
  state  jsonb NOT NULL,
  PRIMARY KEY (run_id, step)
);

CREATE TABLE run_events (
  id      bigserial PRIMARY KEY,
  run_id  text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  type    text NOT NULL,
  data    jsonb NOT NULL,
  at      timestamptz NOT NULL
);
CREATE INDEX run_events_run_idx ON run_events (run_id, id);
