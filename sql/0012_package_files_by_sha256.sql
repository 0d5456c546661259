-- A package is found by the sha256 of any file rpmgate served it as, not only the one uploaded: a
-- file downloaded from a repository and uploaded again is the same package, not a conflict.
create index packages_sha256_idx on packages (sha256);
create index package_previous_files_sha256_idx on package_previous_files (sha256);
