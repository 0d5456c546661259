-- A set's NAME/VERSION names one member list forever. 0002 keeps a sealed set's members from changing,
-- but deleting the whole set (its members cascade) and creating it again with other members, or a
-- TRUNCATE (which fires no row trigger), would let the same NAME/VERSION mean other content.
-- Deleting a set stays possible (cleanup of old integ/qa sets), except a set that is or ever was at
-- release; a deleted set leaves a tombstone, and a tombstoned NAME/VERSION is never created again.

-- When the set first reached release: kept by the database, since an obsolete set does not show it.
alter table package_sets add column released_at timestamptz;
update package_sets s
   set released_at = coalesce(
     (select min(p.promoted_at) from set_promotions p where p.set_id = s.id and p.to_level = 'release'),
     s.created_at)
 where s.level = 'release'
    or exists (select 1 from set_promotions p where p.set_id = s.id and p.to_level = 'release');

create function package_sets_keep_released_at() returns trigger
language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.released_at is distinct from old.released_at then
    raise exception 'package set %/%: released_at is kept by the database', old.name, old.version using errcode = 'P0001';
  end if;
  if new.level = 'release' and new.released_at is null then
    new.released_at := now();
  end if;
  return new;
end $$;

create trigger package_sets_keep_released_at before insert or update on package_sets
  for each row execute function package_sets_keep_released_at();

create table package_set_tombstones (
  name text not null,
  version text not null,
  deleted_at timestamptz not null default now(),
  level text not null,
  created_at timestamptz not null,
  member_count integer not null,
  -- sha256 of the sorted lines "NEVRA ORIGINAL_SHA256" of its members: what the version meant.
  members_sha256 text not null,
  constraint package_set_tombstones_pkey primary key (name, version)
);

-- The same lock createSet takes per product line, so that a creation racing a deletion of the same
-- NAME/VERSION sees the tombstone once the deletion commits (each statement of a plpgsql function
-- takes a fresh snapshot under READ COMMITTED).
create function package_set_name_lock(name text) returns void
language sql as $$
  select pg_advisory_xact_lock(hashtextextended('set:' || name, 0))
$$;

create function package_sets_refuse_tombstoned() returns trigger
language plpgsql as $$
begin
  perform package_set_name_lock(new.name);
  if exists (select 1 from package_set_tombstones t where t.name = new.name and t.version = new.version) then
    raise exception 'package set %/% existed before and was deleted; a version never changes meaning, use a new version',
      new.name, new.version using errcode = 'P0001';
  end if;
  return new;
end $$;

create trigger package_sets_refuse_tombstoned before insert on package_sets
  for each row execute function package_sets_refuse_tombstoned();

-- Runs before the members cascade away, so that their digest can be kept.
create function package_sets_bury() returns trigger
language plpgsql as $$
begin
  if old.released_at is not null or old.level = 'release' then
    raise exception 'package set %/% was released: a released set is never deleted', old.name, old.version
      using errcode = 'P0001';
  end if;
  perform package_set_name_lock(old.name);
  insert into package_set_tombstones (name, version, level, created_at, member_count, members_sha256)
  select old.name, old.version, old.level, old.created_at, count(p.id),
         encode(sha256(convert_to(coalesce(string_agg(p.nevra || ' ' || p.original_sha256, E'\n' order by p.nevra), ''), 'UTF8')), 'hex')
    from package_set_members m join packages p on p.id = m.package_id
   where m.set_id = old.id;
  return old;
end $$;

create trigger package_sets_bury before delete on package_sets
  for each row execute function package_sets_bury();

create function package_set_tombstones_guard() returns trigger
language plpgsql as $$
begin
  raise exception 'package set tombstones are permanent' using errcode = 'P0001';
end $$;

create trigger package_set_tombstones_guard before update or delete on package_set_tombstones
  for each row execute function package_set_tombstones_guard();

-- TRUNCATE fires no row trigger: refused outright on the tables that hold what a set version means.
create function refuse_truncate() returns trigger
language plpgsql as $$
begin
  raise exception 'table % cannot be truncated: package set versions never change meaning', tg_table_name
    using errcode = 'P0001';
end $$;

create trigger package_sets_refuse_truncate before truncate on package_sets
  for each statement execute function refuse_truncate();
create trigger package_set_members_refuse_truncate before truncate on package_set_members
  for each statement execute function refuse_truncate();
create trigger package_set_tombstones_refuse_truncate before truncate on package_set_tombstones
  for each statement execute function refuse_truncate();
