-- Which packages changed in which transaction, so that the member list of a repository (100,000 rows,
-- joined and sorted by name) need not be read again after every promotion: a list read in snapshot S
-- is brought up to date with the packages changed by the transactions S did not see
-- (pg_visible_in_snapshot). Changes of a package's level, its insertion or deletion, and changes of
-- its fragments are logged, once per statement. Entries are pruned after a day; a list older than an
-- hour is read again whole.
create table repo_member_changes (
  txid xid8 not null default pg_current_xact_id(),
  changed_at timestamptz not null default now(),
  package_id bigint not null
);
create index repo_member_changes_txid_idx on repo_member_changes (txid);
create index repo_member_changes_changed_at_idx on repo_member_changes (changed_at);

create function packages_log_member_changes() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into repo_member_changes (package_id) select id from new_rows;
  elsif tg_op = 'DELETE' then
    insert into repo_member_changes (package_id) select id from old_rows;
  else
    insert into repo_member_changes (package_id)
    select n.id from new_rows n join old_rows o on o.id = n.id
    where (n.level_rank, n.is_source, n.name) is distinct from (o.level_rank, o.is_source, o.name);
  end if;
  return null;
end $$;

create trigger packages_log_member_inserts after insert on packages
  referencing new table as new_rows for each statement execute function packages_log_member_changes();
create trigger packages_log_member_updates after update on packages
  referencing old table as old_rows new table as new_rows for each statement execute function packages_log_member_changes();
create trigger packages_log_member_deletes after delete on packages
  referencing old table as old_rows for each statement execute function packages_log_member_changes();

create function package_fragment_digests_log_changes() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into repo_member_changes (package_id) select package_id from new_rows;
  elsif tg_op = 'DELETE' then
    insert into repo_member_changes (package_id) select package_id from old_rows;
  else
    insert into repo_member_changes (package_id)
    select n.package_id from new_rows n join old_rows o on o.package_id = n.package_id
    where n.fragments_sha256 is distinct from o.fragments_sha256;
  end if;
  return null;
end $$;

create trigger package_fragment_digests_log_inserts after insert on package_fragment_digests
  referencing new table as new_rows for each statement execute function package_fragment_digests_log_changes();
create trigger package_fragment_digests_log_updates after update on package_fragment_digests
  referencing old table as old_rows new table as new_rows for each statement execute function package_fragment_digests_log_changes();
create trigger package_fragment_digests_log_deletes after delete on package_fragment_digests
  referencing old table as old_rows for each statement execute function package_fragment_digests_log_changes();
