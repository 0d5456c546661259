-- Packages adopted from a mirror (issue 13): stored like an upload (verified, checked on entry, signed
-- by rpmgate), and this row says where each came from: the mirror and the upstream checksum.
create table mirror_adoptions (
  package_id bigint constraint mirror_adoptions_pkey primary key
    constraint mirror_adoptions_package_fkey references packages (id) on delete cascade,
  mirror_name text not null,
  pkgid text not null,
  adopted_at timestamptz not null default now()
);
