-- The catalog: what this cluster shares (services, data sources, storage targets, compute capacity),
-- with who may see each entry. Visibility is applied in the queries (see catalog/catalog-service.ts):
--   public     → every caller, local or from a peered cluster;
--   private    → callers of this cluster only;
--   restricted → callers acting for one of `allowed_projects` (federation-wide `clusterId/project` ids);
-- the entry's owners and this cluster's admins always see it.
CREATE TABLE catalog_entries (
  id               text PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('service', 'data', 'storage', 'compute')),
  owner_cluster    text NOT NULL,
  name             text NOT NULL,
  description      text NOT NULL DEFAULT '',
  tags             text[] NOT NULL DEFAULT '{}',
  -- User names of this cluster who may change the entry.
  owners           text[] NOT NULL DEFAULT '{}',
  licence          text,
  visibility       text NOT NULL CHECK (visibility IN ('public', 'private', 'restricted')),
  allowed_projects text[] NOT NULL DEFAULT '{}',
  -- The kind-specific spec, validated by the service before it is written.
  spec             jsonb NOT NULL,
  -- Lower-cased name, description and tags, kept by the service on every write: what `search` matches.
  search_text      text NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  CHECK (visibility = 'restricted' OR cardinality(allowed_projects) = 0)
);
-- Listing (by kind) in case-insensitive name order, with keyset pagination on (lower(name), id). The "C"
-- collation makes that order the same on every database, whatever its locale.
CREATE INDEX catalog_entries_kind_name_idx ON catalog_entries (kind, (lower(name)) COLLATE "C", id);
CREATE INDEX catalog_entries_name_idx ON catalog_entries ((lower(name)) COLLATE "C", id);
-- `tags @> ARRAY[...]` (the tag filter) and `allowed_projects && ARRAY[...]` (the restricted check).
CREATE INDEX catalog_entries_tags_idx ON catalog_entries USING gin (tags);
CREATE INDEX catalog_entries_allowed_projects_idx ON catalog_entries USING gin (allowed_projects);
CREATE INDEX catalog_entries_owners_idx ON catalog_entries USING gin (owners);
