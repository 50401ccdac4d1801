-- Users who sign in through an external OpenID Connect provider, keyed by the provider's issuer and the
-- subject it gives them: the local user is found by (issuer, subject), never by name or e-mail.
CREATE TABLE external_identities (
  issuer        text NOT NULL,
  subject       text NOT NULL,
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL,
  last_login_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX external_identities_user_idx ON external_identities (user_id);

-- How a membership came about: given by hand (an admin, or creating the project), or from the provider's
-- projects claim at sign-in. Only the claim's memberships are taken away when the claim stops naming them.
ALTER TABLE project_members ADD COLUMN origin text NOT NULL DEFAULT 'hand' CHECK (origin IN ('hand', 'claim'));
