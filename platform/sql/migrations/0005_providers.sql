-- Compute providers and their reservation ledger. A reservation holds cores, memory and GPUs of one
-- provider for a time window [starts_at, ends_at). Reservations of one provider are made one at a time:
-- each `reserve` locks its provider row (SELECT ... FOR UPDATE) before it sums the reservations that
-- overlap its window, so that two concurrent requests never both take the last free capacity.
CREATE TABLE compute_providers (
  id         text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE compute_reservations (
  id          text PRIMARY KEY,
  provider_id text NOT NULL REFERENCES compute_providers (id) ON DELETE CASCADE,
  -- `local` for this cluster's users, else the cluster id of the peer that holds the reservation.
  requester   text NOT NULL,
  -- The local user who made it (null when a peer cluster made it itself).
  user_id     text,
  user_name   text,
  -- CPU in thousandths of a core (Kubernetes' millicores), so sums are exact integers.
  millicores  integer NOT NULL CHECK (millicores >= 0),
  memory_mib  integer NOT NULL CHECK (memory_mib >= 0),
  gpus        integer NOT NULL CHECK (gpus >= 0),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  created_at  timestamptz NOT NULL,
  released_at timestamptz,
  released_by text,
  CHECK (ends_at > starts_at),
  CHECK (millicores > 0 OR memory_mib > 0 OR gpus > 0)
);
-- What `reserve` reads under the lock: the provider's unreleased reservations that end after a time.
CREATE INDEX compute_reservations_open_idx ON compute_reservations (provider_id, ends_at) WHERE released_at IS NULL;
CREATE INDEX compute_reservations_requester_idx ON compute_reservations (provider_id, requester, created_at DESC);
