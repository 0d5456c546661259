-- The signing keys of every server on this database (issue 10 item 7). The secrets stay with the
-- servers (RPMGATE_SIGNING_KEY_FILE, or DATA_DIR/keys); the database records which key is current, so
-- that a server started with another key refuses to start instead of silently re-signing every
-- package with its own, and each key's public half, so that every server can publish them all.
create table signing_keys (
  fingerprint text constraint signing_keys_pkey primary key
    constraint signing_keys_fingerprint_format check (fingerprint ~ '^[0-9a-f]{40}$'),
  public_key text not null,
  status text not null constraint signing_keys_status_check check (status in ('current', 'published', 'retired')),
  added_at timestamptz not null default now(),
  -- host name and data dir of the server that first recorded it, for the refusal's message
  added_by text not null,
  changed_at timestamptz not null default now()
);
create unique index signing_keys_one_current on signing_keys ((true)) where status = 'current';
