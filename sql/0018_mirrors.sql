-- Upstream repositories (issue 13): a mirror is an upstream's base URL, the OpenPGP keys its
-- repomd.xml.asc and packages are verified with, and what its last good sync read. A sync replaces
-- the metadata and the package rows of one mirror in one transaction: a failed sync leaves the
-- previous state as it was. Packages are recorded, never downloaded, by a sync; the caching proxy and
-- adoption fetch them on demand.

create table mirrors (
  id bigint generated always as identity constraint mirrors_pkey primary key,
  name text not null constraint mirrors_name_key unique
    constraint mirrors_name_format check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  baseurl text not null,
  source_baseurl text,
  -- Binary arches recorded by a sync (noarch always); null: every arch.
  arches text[],
  -- ASCII-armored public keys; empty: the upstream is trusted without signatures.
  keys text[] not null default '{}',
  created_at timestamptz not null default now(),
  created_by text not null,
  -- What the last good sync read: repomd.xml and its signature as the upstream served them.
  revision text,
  repomd_xml bytea,
  repomd_asc bytea,
  source_repomd_xml bytea,
  source_repomd_asc bytea,
  synced_at timestamptz,
  -- The last attempt, good or not, for `mirror show` and the console.
  last_attempt_at timestamptz,
  last_error text
);

-- The files repomd.xml names, as the upstream served them (stored in the blob store by sha256), so the
-- caching proxy serves metadata unchanged whatever the upstream does meanwhile.
create table mirror_metadata_files (
  mirror_id bigint not null constraint mirror_metadata_files_mirror_fkey references mirrors (id) on delete cascade,
  -- 'binary': the repository at baseurl; 'source': the one at source_baseurl.
  part text not null constraint mirror_metadata_files_part_check check (part in ('binary', 'source')),
  href text not null,
  sha256 text not null constraint mirror_metadata_files_sha256_format check (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint not null,
  constraint mirror_metadata_files_pkey primary key (mirror_id, part, href)
);

-- An upstream package as primary.xml lists it. pkgid is the upstream checksum (of checksum_type); a sync
-- leaves rows whose pkgid the upstream still lists untouched.
create table mirror_packages (
  id bigint generated always as identity constraint mirror_packages_pkey primary key,
  mirror_id bigint not null constraint mirror_packages_mirror_fkey references mirrors (id) on delete cascade,
  pkgid text not null,
  checksum_type text not null,
  nevra text not null,
  name text not null,
  epoch integer,
  version text not null,
  release text not null,
  arch text not null,
  is_source boolean not null,
  sourcerpm text,
  location_href text not null,
  size bigint not null,
  -- Set once the proxy or an adoption fetched and verified the file: its blob (sha256 of the bytes).
  cached_sha256 text constraint mirror_packages_cached_sha256_format check (cached_sha256 ~ '^[0-9a-f]{64}$'),
  constraint mirror_packages_pkgid_key unique (mirror_id, pkgid)
);
create index mirror_packages_nevra_idx on mirror_packages (nevra);
create index mirror_packages_name_idx on mirror_packages (name);
create index mirror_packages_href_idx on mirror_packages (mirror_id, location_href);

create table mirror_package_dependencies (
  mirror_package_id bigint not null constraint mirror_package_dependencies_package_fkey references mirror_packages (id) on delete cascade,
  kind text not null constraint mirror_package_dependencies_kind_check
    check (kind in ('provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances')),
  name text not null,
  flags integer not null,
  evr text not null
);
create index mirror_package_dependencies_package_idx on mirror_package_dependencies (mirror_package_id);
create index mirror_package_dependencies_provides_idx on mirror_package_dependencies (name) where kind = 'provides';

-- The files primary.xml lists (createrepo_c's primary subset: /etc/*, *bin/*, /usr/lib/sendmail),
-- which is what file requirements name.
create table mirror_package_files (
  mirror_package_id bigint not null constraint mirror_package_files_package_fkey references mirror_packages (id) on delete cascade,
  path text not null
);
create index mirror_package_files_package_idx on mirror_package_files (mirror_package_id);
create index mirror_package_files_path_idx on mirror_package_files (path);
