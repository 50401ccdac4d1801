-- The embedded resource store (Swarm, Identity, Peer objects when no Kubernetes cluster is configured).
-- resourceVersion is one counter across all kinds, as in Kubernetes; writers take it under a lock so
-- that versions become visible in increasing order (see platform/resource-store/sql-resource-store.ts).
CREATE SEQUENCE resource_version_seq;

CREATE TABLE resources (
  kind             text NOT NULL,
  namespace        text NOT NULL,
  name             text NOT NULL,
  uid              uuid NOT NULL UNIQUE,
  resource_version bigint NOT NULL,
  -- The whole object as returned to callers, system fields included.
  object           jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, namespace, name)
);
CREATE INDEX resources_labels_idx ON resources USING gin ((object -> 'metadata' -> 'labels') jsonb_path_ops);

-- Every change, for watches: replayed from a version, then followed. Old events are pruned; a watch from
-- before the horizon is told to list again.
CREATE TABLE resource_events (
  resource_version bigint PRIMARY KEY,
  kind             text NOT NULL,
  namespace        text NOT NULL,
  name             text NOT NULL,
  type             text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
  object           jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resource_events_watch_idx ON resource_events (kind, namespace, resource_version);
CREATE INDEX resource_events_created_idx ON resource_events (created_at);

-- The newest version whose events may have been pruned.
CREATE TABLE resource_event_horizon (
  singleton         boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  resource_version  bigint NOT NULL
);
INSERT INTO resource_event_horizon (resource_version) VALUES (0);
