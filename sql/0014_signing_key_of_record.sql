-- The key every server on this database signs with. Keys live in each server's data dir (or
-- RPMGATE_SIGNING_KEY_FILE); the database records which one is current, so that a second server with
-- a key of its own refuses to start instead of re-signing every package with it (server/signing/key-of-record.ts).
create table signing_key_of_record (
  singleton boolean primary key default true constraint signing_key_of_record_singleton check (singleton),
  fingerprint text not null constraint signing_key_of_record_fingerprint_format check (fingerprint ~ '^[0-9a-f]{40}$'),
  recorded_at timestamptz not null default now()
);
