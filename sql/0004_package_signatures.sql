-- Which key signed each served file (its OpenPGP fingerprint): key rotation re-signs the rows whose
-- signer is not the current key.
alter table packages add column signed_by text;
create index packages_signed_by_idx on packages (signed_by);
