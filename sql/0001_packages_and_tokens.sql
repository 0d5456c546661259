-- Packages as uploaded and as served, their dependencies and files (for set resolution), the repodata
-- fragments rendered once at upload, and the API tokens (stored as sha256 digests, never in clear).

create table tokens (
  id bigint generated always as identity constraint tokens_pkey primary key,
  name text not null,
  role text not null constraint tokens_role_check
    check (role in ('developer', 'integ', 'qa', 'release_manager', 'cpe', 'admin', 'agent', 'enrollment')),
  token_sha256 bytea not null constraint tokens_token_sha256_key unique,
  created_at timestamptz not null default now(),
  created_by text,
  revoked_at timestamptz,
  -- An agent token binds to the first host that reports with it.
  machine_id text
);

create table packages (
  id bigint generated always as identity constraint packages_pkey primary key,
  nevra text not null constraint packages_nevra_key unique,
  name text not null,
  epoch integer,
  version text not null,
  release text not null,
  arch text not null,
  is_source boolean not null,
  sourcerpm text,
  -- The file name in repositories (Packages/<filename>): NVRA, unique so that an href names one package.
  filename text not null constraint packages_filename_key unique,
  original_sha256 text not null constraint packages_original_sha256_key unique,
  original_size bigint not null,
  -- The file served (signed on entry): its sha256 is the repodata pkgid.
  sha256 text not null,
  size bigint not null,
  summary text not null,
  license text not null,
  url text not null,
  vendor text not null,
  buildhost text not null,
  buildtime bigint not null,
  installed_size bigint not null,
  header_start bigint not null,
  header_end bigint not null,
  uploaded_at timestamptz not null default now(),
  uploaded_by text not null,
  constraint packages_sha256_format check (sha256 ~ '^[0-9a-f]{64}$' and original_sha256 ~ '^[0-9a-f]{64}$'),
  constraint packages_source_arch check (is_source = (arch = 'src'))
);
create index packages_name_idx on packages (name);
create index packages_sourcerpm_idx on packages (sourcerpm) where sourcerpm is not null;

create table package_dependencies (
  package_id bigint not null constraint package_dependencies_package_fkey references packages (id) on delete cascade,
  kind text not null constraint package_dependencies_kind_check
    check (kind in ('provides', 'requires', 'conflicts', 'obsoletes', 'recommends', 'suggests', 'supplements', 'enhances')),
  name text not null,
  flags integer not null,
  evr text not null
);
create index package_dependencies_package_idx on package_dependencies (package_id);
create index package_dependencies_provides_idx on package_dependencies (name) where kind = 'provides';

create table package_files (
  package_id bigint not null constraint package_files_package_fkey references packages (id) on delete cascade,
  path text not null,
  type text not null constraint package_files_type_check check (type in ('file', 'dir', 'ghost'))
);
create index package_files_package_idx on package_files (package_id);
create index package_files_path_idx on package_files (path);

-- Rendered once at upload (and again only when the served file changes, e.g. re-signing):
-- a repository request concatenates these, it never renders a package.
create table package_repodata (
  package_id bigint constraint package_repodata_pkey primary key
    constraint package_repodata_package_fkey references packages (id) on delete cascade,
  primary_xml text not null,
  filelists_xml text not null,
  other_xml text not null
);
