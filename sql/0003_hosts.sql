-- The fleet: hosts reporting their installed packages, each host's current inventory, the history of
-- what changed on it, and its conformance to its package set, precomputed at report time.
--
-- Stored compactly for large fleets: a package tuple (name, epoch, version, release, arch) is interned
-- once in package_tuples; a host's inventory is the sorted array of its tuple ids plus digests of the
-- report and of the tuples, so a report identical to the previous one is recognised by a digest and
-- costs one update; only differences are written to host_changes. Tuples are never deleted (servers
-- cache their ids).

create table package_tuples (
  id integer generated always as identity constraint package_tuples_pkey primary key,
  name text not null,
  -- An absent epoch is stored as 0: rpm and dnf make no difference between the two.
  epoch integer not null,
  version text not null,
  release text not null,
  arch text not null,
  constraint package_tuples_nevra_key unique (name, epoch, version, release, arch),
  constraint package_tuples_epoch_check check (epoch >= 0)
);

create table hosts (
  id bigint generated always as identity constraint hosts_pkey primary key,
  machine_id text not null constraint hosts_machine_id_key unique,
  hostname text not null,
  os text not null,
  arch text not null,
  -- The set the host reports it is configured for: set_ref as reported ("NAME/VERSION"), set_id when
  -- that set exists. An unknown set keeps set_ref with set_id null, and is resolved once it exists.
  set_ref text,
  set_id bigint constraint hosts_set_fkey references package_sets (id) on delete set null,
  -- The agent token the host reports with; another live token may not write this host.
  token_id bigint constraint hosts_token_fkey references tokens (id) on delete set null,
  first_report_at timestamptz not null default now(),
  last_report_at timestamptz not null default now(),
  -- When the inventory last differed from the previous report.
  last_change_at timestamptz not null default now(),
  report_count bigint not null default 1,
  -- sha256 of the last report's bytes: a byte-identical report is recognised before it is even parsed.
  report_sha256 bytea not null,
  -- sha256 over the sorted tuples (server/services/package-tuples.ts): equal digests mean an unchanged
  -- inventory, whatever the order or the JSON spacing of the report.
  inventory_digest bytea not null,
  package_count integer not null,
  -- Conformance to the set (common/conformance.ts, not strict), recomputed whenever the host reports
  -- or its set comes into existence; sets are immutable, so nothing else can change it.
  conformance_status text not null,
  expected_count integer not null default 0,
  missing_count integer not null default 0,
  older_count integer not null default 0,
  newer_count integer not null default 0,
  different_count integer not null default 0,
  foreign_count integer not null default 0,
  -- The drift itself (missing, older, newer, different; foreign packages only counted): what the
  -- set conformance view lists without recomputing anything.
  conformance jsonb not null default '{}',
  conformance_at timestamptz not null default now(),
  constraint hosts_conformance_status_check
    check (conformance_status in ('conforming', 'drifting', 'no_set', 'unknown_set')),
  constraint hosts_set_ref_check check (set_id is null or set_ref is not null),
  constraint hosts_digests_check check (octet_length(inventory_digest) = 32 and octet_length(report_sha256) = 32),
  constraint hosts_counts_check check (
    package_count >= 0 and expected_count >= 0 and missing_count >= 0 and older_count >= 0
    and newer_count >= 0 and different_count >= 0 and foreign_count >= 0)
) with (fillfactor = 80); -- room for HOT updates: an unchanged report only moves last_report_at

create index hosts_status_idx on hosts (conformance_status, hostname);
create index hosts_set_ref_idx on hosts (set_ref, conformance_status) where set_ref is not null;
create index hosts_unresolved_set_idx on hosts (set_ref) where set_id is null and set_ref is not null;
create index hosts_set_idx on hosts (set_id) where set_id is not null;

-- A host's current inventory: its tuple ids, ascending, without duplicates.
create table host_inventories (
  host_id bigint constraint host_inventories_pkey primary key
    constraint host_inventories_host_fkey references hosts (id) on delete cascade,
  tuple_ids integer[] not null,
  constraint host_inventories_tuple_ids_check check (array_ndims(tuple_ids) = 1 or cardinality(tuple_ids) = 0)
);
-- "Which hosts run this package?" (components usage): hosts whose inventory overlaps some tuple ids.
create index host_inventories_tuple_ids_idx on host_inventories using gin (tuple_ids);

-- What changed between two reports. The first report is the baseline and records nothing.
create table host_changes (
  id bigint generated always as identity constraint host_changes_pkey primary key,
  host_id bigint not null constraint host_changes_host_fkey references hosts (id) on delete cascade,
  changed_at timestamptz not null,
  kind text not null constraint host_changes_kind_check check (kind in ('installed', 'removed', 'changed')),
  from_tuple_id integer constraint host_changes_from_fkey references package_tuples (id),
  to_tuple_id integer constraint host_changes_to_fkey references package_tuples (id),
  constraint host_changes_tuples_check check (
    (kind = 'installed' and from_tuple_id is null and to_tuple_id is not null)
    or (kind = 'removed' and from_tuple_id is not null and to_tuple_id is null)
    or (kind = 'changed' and from_tuple_id is not null and to_tuple_id is not null))
);
create index host_changes_host_idx on host_changes (host_id, id);

-- A set deleted under its hosts (cleanup) leaves them with an unknown set: their stored conformance
-- was computed against it and must not survive it.
create function hosts_set_cleared() returns trigger
language plpgsql as $$
begin
  if old.set_id is not null and new.set_id is null and new.set_ref is not null then
    new.conformance_status := 'unknown_set';
    new.expected_count := 0;
    new.missing_count := 0;
    new.older_count := 0;
    new.newer_count := 0;
    new.different_count := 0;
    new.foreign_count := 0;
    new.conformance := '{}';
    new.conformance_at := now();
  end if;
  return new;
end $$;

create trigger hosts_set_cleared before update of set_id on hosts
  for each row execute function hosts_set_cleared();
