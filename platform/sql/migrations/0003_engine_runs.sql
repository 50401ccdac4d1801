-- Runs of the local workflow engine (the embedded adapter of the workflow-engine port) and the state of
-- their nodes, written at every transition so that a restarted node shows the last state of each run.
CREATE TABLE engine_runs (
  name        text PRIMARY KEY,
  -- The submitted Workflow, with its generated name and the submitted parameter values.
  manifest    jsonb NOT NULL,
  phase       text NOT NULL CHECK (phase IN ('Pending', 'Running', 'Succeeded', 'Failed', 'Error')),
  message     text,
  created_at  timestamptz NOT NULL,
  started_at  timestamptz,
  finished_at timestamptz
);
CREATE INDEX engine_runs_created_idx ON engine_runs (created_at DESC);

CREATE TABLE engine_nodes (
  run_name text NOT NULL REFERENCES engine_runs (name) ON DELETE CASCADE,
  -- Argo's node id (`<run>-<fnv32a of the node name>`); the state is the node as `get` returns it.
  node_id  text NOT NULL,
  state    jsonb NOT NULL,
  PRIMARY KEY (run_name, node_id)
);
