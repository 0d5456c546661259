-- What `set create --allow-unresolved` left unresolved: [{nevra, requirement}], recorded with the set
-- (sets layered on an OS leave what the OS provides to the OS). Immutable like the rest of a set.
alter table package_sets add column unresolved jsonb not null default '[]'::jsonb;

alter table package_sets add constraint package_sets_unresolved_is_array check (jsonb_typeof(unresolved) = 'array');

create function package_sets_keep_unresolved() returns trigger
language plpgsql as $$
begin
  if new.unresolved is distinct from old.unresolved then
    raise exception 'package set %/% is immutable', old.name, old.version using errcode = 'P0001';
  end if;
  return new;
end $$;

create trigger package_sets_keep_unresolved before update on package_sets
  for each row execute function package_sets_keep_unresolved();
