-- Whether a set's source repository follows its binaries: a set created with its sources (the
-- default) serves the SRPMs its binaries were built from, also those uploaded after it; a set created
-- with noSources serves only the sources it names.
alter table package_sets add column includes_sources boolean not null default true;

-- Sets made before this column: one created with noSources is recognisable by a binary whose SRPM
-- was stored before the set and is not a member (creation would have added it otherwise).
update package_sets s set includes_sources = false
where exists (
  select 1 from package_set_members m
  join packages b on b.id = m.package_id and not b.is_source
  join packages src on src.is_source and src.filename = b.sourcerpm and src.uploaded_at <= s.created_at
  where m.set_id = s.id
    and not exists (select 1 from package_set_members ms where ms.set_id = s.id and ms.package_id = src.id));

create function package_sets_keep_includes_sources() returns trigger
language plpgsql as $$
begin
  if new.includes_sources <> old.includes_sources then
    raise exception 'package set %/% is immutable', old.name, old.version using errcode = 'P0001';
  end if;
  return new;
end $$;

create trigger package_sets_keep_includes_sources before update on package_sets
  for each row execute function package_sets_keep_includes_sources();

-- Deleting a set (cleanup) changes what repositories hold: its members' levels are computed again
-- and the levels generation moves, in the deleting transaction, so that no cache serves the set on.
create function package_set_members_after_delete() returns trigger
language plpgsql as $$
begin
  perform refresh_package_levels(array(select distinct package_id from removed));
  update repo_generations set generation = generation + 1, changed_at = now() where scope = 'levels';
  return null;
end $$;

create trigger package_set_members_after_delete after delete on package_set_members
  referencing old table as removed
  for each statement execute function package_set_members_after_delete();
