-- Members of a set still to be adopted from a mirror (issue 13): `set create` naming an upstream
-- package (or --resolve picking one) records the set at once, with this row for each upstream package
-- not in the store yet; a background job fetches, verifies, checks on entry, signs and stores it, then
-- makes it a member and removes the row, in one transaction. The set's repository lists only stored
-- members, so dnf never sees a package it cannot download. A row's upstream identity (mirror, pkgid,
-- location) is fixed when the set is created: completing it fills in what the set meant from the start.
create table set_pending_adoptions (
  set_id bigint not null constraint set_pending_adoptions_set_fkey references package_sets (id) on delete cascade,
  nevra text not null,
  mirror_name text not null,
  pkgid text not null,
  checksum_type text not null,
  location_href text not null,
  size bigint not null,
  is_source boolean not null,
  -- 'pending': retried with backoff (an upstream down or answering errors); 'failed': refused for good
  -- (entry checks, bytes that fail verification), never served, and the set cannot be promoted.
  state text not null default 'pending' constraint set_pending_adoptions_state_check check (state in ('pending', 'failed')),
  attempts integer not null default 0,
  last_error text,
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  constraint set_pending_adoptions_pkey primary key (set_id, nevra)
);
create index set_pending_adoptions_due_idx on set_pending_adoptions (next_attempt_at) where state = 'pending';

-- Rows are recorded with the set (before it is sealed) and never re-identified afterwards; a failure
-- is final.
create function set_pending_adoptions_guard() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if (select sealed from package_sets where id = new.set_id) then
      raise exception 'package set % is sealed: no pending member can be added', new.set_id using errcode = 'P0001';
    end if;
    return new;
  end if;
  if new.set_id <> old.set_id or new.nevra <> old.nevra or new.mirror_name <> old.mirror_name or new.pkgid <> old.pkgid
     or new.checksum_type <> old.checksum_type or new.location_href <> old.location_href or new.size <> old.size
     or new.is_source <> old.is_source then
    raise exception 'the pending member % of package set % cannot change identity', old.nevra, old.set_id using errcode = 'P0001';
  end if;
  if old.state = 'failed' and new.state <> 'failed' then
    raise exception 'the pending member % of package set % failed, which is final', old.nevra, old.set_id using errcode = 'P0001';
  end if;
  return new;
end $$;

create trigger set_pending_adoptions_guard before insert or update on set_pending_adoptions
  for each row execute function set_pending_adoptions_guard();

-- A sealed set's members still never change, except that a pending member, once adopted, takes its
-- place: the package inserted must be the NEVRA a pending row of the set names.
create or replace function package_set_members_guard() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if (select sealed from package_sets where id = new.set_id)
       and not exists (select 1 from set_pending_adoptions a join packages p on p.nevra = a.nevra
                       where a.set_id = new.set_id and p.id = new.package_id and a.state = 'pending') then
      raise exception 'package set % is sealed: its members cannot change', new.set_id using errcode = 'P0001';
    end if;
    return new;
  end if;
  -- A delete cascading from the deletion of the whole set (cleanup) finds the set gone already.
  if tg_op = 'DELETE' and not exists (select 1 from package_sets where id = old.set_id) then
    return old;
  end if;
  raise exception 'the members of package set % cannot change', coalesce(old.set_id, new.set_id) using errcode = 'P0001';
end $$;

-- A set whose members are not all in the store stays at integ (obsolete stays possible): a level past
-- integ promises hosts the whole set, and a pending member may never arrive.
create function package_sets_refuse_incomplete_promotion() returns trigger
language plpgsql as $$
begin
  if new.level <> old.level and new.level <> 'obsolete' and level_rank(new.level) > 0
     and exists (select 1 from set_pending_adoptions a where a.set_id = new.id) then
    raise exception 'package set %/% has members not adopted yet', old.name, old.version using errcode = 'P0002';
  end if;
  return new;
end $$;

create trigger package_sets_refuse_incomplete_promotion before update on package_sets
  for each row execute function package_sets_refuse_incomplete_promotion();
