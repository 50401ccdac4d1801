-- The pods this cluster runs for peered clusters' runs (/archipel/execution/1.0.0), as its operators see
-- them: who asked (cluster, run, user, project), under which reservation. The pod itself is a run of this
-- cluster's engine, named engine_name.
CREATE TABLE peer_executions (
  engine_name    text PRIMARY KEY,
  origin_cluster text NOT NULL,
  origin_run     text NOT NULL,
  user_name      text NOT NULL,
  project        text NOT NULL,
  reservation_id text NOT NULL,
  step           text,
  created_at     timestamptz NOT NULL
);
CREATE INDEX peer_executions_created_idx ON peer_executions (created_at DESC, engine_name);
