-- Access grants handed out by the data and storage providers (providers/access): a PostgreSQL role on a
-- view, pre-signed S3 URLs, a directory. The backend objects are named after the grant id, so a grant can
-- be revoked from its row alone. `revoked_at` is set once the provider has taken the access back; expired
-- grants are revoked by the sweep.
CREATE TABLE access_grants (
  id              text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('data', 'storage')),
  -- `directory`, `s3` or `postgresql`, and the whole target spec as given (catalog data/storage spec shape).
  target_type     text NOT NULL,
  target          jsonb NOT NULL,
  -- Who the grant is for: `local` or a peer's cluster id, and the user there.
  grantee_cluster text NOT NULL,
  grantee_user    text NOT NULL,
  -- The local user who asked for it.
  created_by      text,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz,
  revoked_by      text,
  CHECK (expires_at > created_at)
);
-- What the sweep reads: grants not revoked yet, by expiry.
CREATE INDEX access_grants_open_idx ON access_grants (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX access_grants_grantee_idx ON access_grants (grantee_cluster, grantee_user, created_at DESC);
