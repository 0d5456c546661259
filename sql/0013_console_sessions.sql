-- The web console's sessions (server/console/session.ts) and the indexes its pages read through.
--
-- A session is what a person's token is exchanged for at log-in: the browser holds a random secret in
-- an HttpOnly cookie, the database only its sha256 (as for tokens). A session lives as long as the
-- token it came from: revoking the token (or deleting it) ends its sessions. A session of the
-- RPMGATE_ADMIN_TOKEN bootstrap token has no token row; it keeps the digest of that token instead and
-- ends when the server runs with another one.
create table console_sessions (
  id bigint generated always as identity constraint console_sessions_pkey primary key,
  session_sha256 bytea not null constraint console_sessions_session_sha256_key unique,
  token_id bigint constraint console_sessions_token_fkey references tokens (id) on delete cascade,
  bootstrap_sha256 bytea,
  created_at timestamptz not null default now(),
  -- Absolute end, and the idle end moved forward as the session is used.
  expires_at timestamptz not null,
  idle_expires_at timestamptz not null,
  constraint console_sessions_digest_check check (octet_length(session_sha256) = 32),
  constraint console_sessions_owner_check check ((token_id is null) <> (bootstrap_sha256 is null))
);
create index console_sessions_token_idx on console_sessions (token_id) where token_id is not null;
create index console_sessions_expires_idx on console_sessions (expires_at);

-- Console lists: prefix search on names (LIKE 'x%' needs pattern operators whatever the collation),
-- hosts by report age, and the most drifting hosts first.
create index package_sets_name_pattern_idx on package_sets (name text_pattern_ops);
create index packages_name_pattern_idx on packages (name text_pattern_ops);
create index hosts_hostname_pattern_idx on hosts (lower(hostname) text_pattern_ops);
create index hosts_machine_id_pattern_idx on hosts (machine_id text_pattern_ops);
create index hosts_last_report_idx on hosts (last_report_at);
create index hosts_drift_size_idx on hosts ((missing_count + older_count + newer_count + different_count) desc, hostname)
  where conformance_status = 'drifting';
create index hosts_set_hostname_idx on hosts (set_id, hostname) where set_id is not null;
