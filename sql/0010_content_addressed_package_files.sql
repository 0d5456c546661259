-- Package files addressed by content, so that a key rotation keeps hosts working (issue 4).
-- primary.xml places a package at Packages/<first 16 hex of the served sha256>/<NVRA>.rpm, and the
-- bytes behind such a URL never change. Re-signing gives a package a new served file under a new
-- href; the file it replaces is recorded here and its blob kept, and its href still answers, so a host
-- whose dnf cached primary.xml before the rotation downloads exactly what that primary.xml describes
-- (signed by the previous key, which /keys/rpmgate.asc publishes during the overlap).
-- Packages/<NVRA>.rpm stays an alias of the current served file.

-- When the current served file began to be served (the upload, or the last re-signing): the alias's
-- Last-Modified, which must move when its bytes do. When a package was re-signed before this
-- migration is not known: the migration's own time is the one value that cannot make an
-- If-Modified-Since answer 304 for bytes that changed.
alter table packages add column served_since timestamptz;
update packages set served_since = date_trunc('second', now());
alter table packages alter column served_since set not null,
                     alter column served_since set default date_trunc('second', now());

-- Files a package served before its current one. A blob named here is still served: a blob collector
-- must keep it (as long as the row lives; rows go with their package).
create table package_previous_files (
  package_id bigint not null constraint package_previous_files_package_fkey references packages (id) on delete cascade,
  sha256 text not null,
  size bigint not null,
  signed_by text,
  served_since timestamptz not null,
  replaced_at timestamptz not null default now(),
  constraint package_previous_files_pkey primary key (package_id, sha256),
  constraint package_previous_files_sha256_format check (sha256 ~ '^[0-9a-f]{64}$')
);

-- Fragments rendered before this migration place packages at Packages/<NVRA>.rpm. They are rewritten
-- here rather than rendered again at start: the change is exactly the digest directory inserted after
-- the fixed prefix `<location href="Packages/` (the renderer writes that text verbatim, escapes only
-- what follows, and a fragment's other text cannot hold `<`), so SQL makes the renderer's output
-- (test/integration/package-files.test.ts proves it) once, in the migration's transaction, for every
-- server on the database; rendering again would read every RPM file, at every start of every server
-- until done. The fragment digests and the member change log follow by trigger (0005, 0006).
update package_repodata r
   set primary_xml = regexp_replace(r.primary_xml, '<location href="Packages/', '<location href="Packages/' || left(p.sha256, 16) || '/')
  from packages p
 where p.id = r.package_id
   and strpos(r.primary_xml, '<location href="Packages/' || left(p.sha256, 16) || '/') = 0;

-- Every repository's documents changed.
update repo_generations set generation = generation + 1, changed_at = now() where scope = 'packages';
