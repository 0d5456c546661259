-- Package sets (immutable, versioned lists of packages), their quality level and promotion history,
-- and each package's effective level, kept in the same transaction as any change that moves it.
--
-- Level ranks: obsolete -1, integ 0, qa_ready 1, pre_release 2, release 3. A level repository serves
-- packages whose rank is at or above its own.

create function level_rank(level text) returns smallint
language sql immutable strict as $$
  select case level
    when 'obsolete' then -1 when 'integ' then 0 when 'qa_ready' then 1
    when 'pre_release' then 2 when 'release' then 3 end::smallint
$$;

create table package_sets (
  id bigint generated always as identity constraint package_sets_pkey primary key,
  name text not null,
  version text not null,
  description text not null default '',
  level text not null default 'integ',
  -- Members may be added only while the set is being created; sealing ends that for good.
  sealed boolean not null default false,
  created_at timestamptz not null default now(),
  created_by text not null,
  constraint package_sets_name_version_key unique (name, version),
  constraint package_sets_name_format check (name ~ '^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$'),
  constraint package_sets_version_format check (version ~ '^[A-Za-z0-9][A-Za-z0-9._+~^-]{0,99}$' and version <> 'latest'),
  constraint package_sets_level_check check (level in ('integ', 'qa_ready', 'pre_release', 'release', 'obsolete'))
);
create index package_sets_level_idx on package_sets (level);

create table package_set_members (
  set_id bigint not null constraint package_set_members_set_fkey references package_sets (id) on delete cascade,
  package_id bigint not null constraint package_set_members_package_fkey references packages (id),
  constraint package_set_members_pkey primary key (set_id, package_id)
);
create index package_set_members_package_idx on package_set_members (package_id);

create table set_promotions (
  id bigint generated always as identity constraint set_promotions_pkey primary key,
  set_id bigint not null constraint set_promotions_set_fkey references package_sets (id) on delete cascade,
  from_level text not null,
  to_level text not null,
  promoted_by text not null,
  promoted_at timestamptz not null default now(),
  comment text not null default ''
);
create index set_promotions_set_idx on set_promotions (set_id, id);

alter table packages add column level_rank smallint not null default 0;
create index packages_level_rank_idx on packages (level_rank);

-- Immutability lives here, not only in the API: a sealed set's member list never changes, and a set
-- only ever moves forward one level, or to obsolete, which is final.
create function package_sets_guard() returns trigger
language plpgsql as $$
begin
  if new.name <> old.name or new.version <> old.version or new.created_at <> old.created_at
     or new.created_by <> old.created_by or new.description <> old.description then
    raise exception 'package set %/% is immutable', old.name, old.version using errcode = 'P0001';
  end if;
  if old.sealed and not new.sealed then
    raise exception 'package set %/% is sealed', old.name, old.version using errcode = 'P0001';
  end if;
  if new.level <> old.level then
    if old.level = 'obsolete' then
      raise exception 'package set %/% is obsolete, which is final', old.name, old.version using errcode = 'P0002';
    end if;
    if new.level <> 'obsolete' and level_rank(new.level) <> level_rank(old.level) + 1 then
      raise exception 'package set %/% cannot move from % to %', old.name, old.version, old.level, new.level
        using errcode = 'P0002';
    end if;
  end if;
  return new;
end $$;

create trigger package_sets_guard before update on package_sets
  for each row execute function package_sets_guard();

create function package_set_members_guard() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if (select sealed from package_sets where id = new.set_id) then
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

create trigger package_set_members_guard before insert or update or delete on package_set_members
  for each row execute function package_set_members_guard();

-- Recomputes the effective level of the given packages and of the source packages tied to them.
-- A binary: the highest non-obsolete set holding it; obsolete when only obsolete sets hold it; integ in none.
-- A source: the highest of its own non-obsolete sets and of its binaries' non-obsolete levels;
-- obsolete when nothing keeps it alive but something once held it; integ otherwise.
create function refresh_package_levels(package_ids bigint[]) returns void
language plpgsql as $$
begin
  with own as (
    select p.id,
           max(level_rank(s.level)) filter (where s.level <> 'obsolete') as live_rank,
           count(s.id) > 0 as in_any_set
    from packages p
    left join package_set_members m on m.package_id = p.id
    left join package_sets s on s.id = m.set_id
    where p.id = any(package_ids) and not p.is_source
    group by p.id
  )
  update packages p
     set level_rank = coalesce(own.live_rank, case when own.in_any_set then -1 else 0 end)
    from own
   where p.id = own.id and p.level_rank is distinct from coalesce(own.live_rank, case when own.in_any_set then -1 else 0 end);

  with sources as (
    select p.id from packages p where p.id = any(package_ids) and p.is_source
    union
    select src.id from packages b join packages src on src.is_source and src.filename = b.sourcerpm
    where b.id = any(package_ids)
  ),
  own as (
    select p.id,
           max(level_rank(s.level)) filter (where s.level <> 'obsolete') as live_rank,
           count(s.id) > 0 as in_any_set
    from packages p
    join sources on sources.id = p.id
    left join package_set_members m on m.package_id = p.id
    left join package_sets s on s.id = m.set_id
    group by p.id
  ),
  built as (
    select src.id,
           max(b.level_rank) filter (where b.level_rank >= 0) as live_rank,
           count(b.id) > 0 as has_binaries
    from packages src
    join sources on sources.id = src.id
    left join packages b on not b.is_source and b.sourcerpm = src.filename
    group by src.id
  ),
  computed as (
    select own.id,
           coalesce(greatest(own.live_rank, built.live_rank),
                    case when own.in_any_set or built.has_binaries then -1 else 0 end)::smallint as rank
    from own join built on built.id = own.id
  )
  update packages p set level_rank = computed.rank
    from computed
   where p.id = computed.id and p.level_rank is distinct from computed.rank;
end $$;

-- Bumped in the transaction of every change to what a repository serves; repodata is cached by it.
-- 'levels': what the level repositories hold (uploads, new sets, promotions). 'packages': the served
-- bytes of stored packages (re-signing), which every repository names.
create table repo_generations (
  scope text constraint repo_generations_pkey primary key,
  generation bigint not null default 0,
  changed_at timestamptz not null default now()
);
insert into repo_generations (scope) values ('levels'), ('packages');
