-- A digest of each package's three repodata fragments, kept by a trigger whatever writes them (upload,
-- re-signing, a future re-render), so that it cannot drift from the text. Repodata builds cache runs of
-- consecutive packages ("chunks", compressed once, stitched into many documents) under a key made of
-- these digests: a fragment that changes gets a new digest, and is never served from a stale chunk.
-- A narrow table of its own: planning a build reads the digests of every member (100,000 rows for a
-- large level), which must not mean reading the wide fragment rows.
create table package_fragment_digests (
  package_id bigint constraint package_fragment_digests_pkey primary key
    constraint package_fragment_digests_package_fkey references package_repodata (package_id)
      on delete cascade on update cascade,
  fragments_sha256 bytea not null
);

create function package_fragments_sha256(primary_xml text, filelists_xml text, other_xml text) returns bytea
language sql stable strict as $$
  select sha256(sha256(convert_to(primary_xml, 'UTF8')) || sha256(convert_to(filelists_xml, 'UTF8'))
                || sha256(convert_to(other_xml, 'UTF8')))
$$;

create function package_fragment_digests_refresh() returns trigger
language plpgsql as $$
begin
  insert into package_fragment_digests (package_id, fragments_sha256)
  values (new.package_id, package_fragments_sha256(new.primary_xml, new.filelists_xml, new.other_xml))
  on conflict on constraint package_fragment_digests_pkey do update set fragments_sha256 = excluded.fragments_sha256;
  return null;
end $$;

create trigger package_fragment_digests_refresh after insert or update on package_repodata
  for each row execute function package_fragment_digests_refresh();

insert into package_fragment_digests (package_id, fragments_sha256)
select package_id, package_fragments_sha256(primary_xml, filelists_xml, other_xml) from package_repodata;
