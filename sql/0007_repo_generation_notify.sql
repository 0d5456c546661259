-- Servers keep the repository generations in memory and learn of every change by notification, so
-- that a request for repomd.xml reaches the cache without a query.
create function repo_generations_notify() returns trigger
language plpgsql as $$
begin
  perform pg_notify('rpmgate_repo_generations', '');
  return null;
end $$;

create trigger repo_generations_notify after update on repo_generations
  for each statement execute function repo_generations_notify();
