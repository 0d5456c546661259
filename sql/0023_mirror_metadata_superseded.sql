-- A sync replaces a mirror's metadata files; a host that read the previous repomd.xml just before may
-- still ask for the files it named. Those stay answerable for a while (superseded_at set), as the
-- upstream's own mirrors keep old files, and are forgotten by a later sync once old enough.
alter table mirror_metadata_files add column superseded_at timestamptz;
