-- Grants made for a catalog entry (a user of this cluster or of a peered one asking for access to a data
-- or storage entry they may see) record the entry, so its grants can be found and revoked together.
ALTER TABLE access_grants ADD COLUMN entry_id text;
CREATE INDEX access_grants_entry_idx ON access_grants (entry_id) WHERE entry_id IS NOT NULL;
COMMENT ON COLUMN access_grants.created_by IS 'Who asked: a local user, or user@cluster for a peer''s user';
