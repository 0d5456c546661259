-- A timestamp as JavaScript's Date.prototype.toISOString() writes it (UTC, milliseconds, "Z"), rounded
-- to the millisecond as the API's other answers round it ((extract(epoch) * 1000)::int8): for JSON that
-- PostgreSQL builds itself (server/db/hosts.ts's listHostViews), which must read the same as JSON built
-- in Node.
create function iso_millis(at timestamptz) returns text
language sql stable strict parallel safe
as $$
  select to_char(to_timestamp(ms / 1000) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || '.' || lpad((ms % 1000)::text, 3, '0') || 'Z'
  from (select (extract(epoch from at) * 1000)::int8 as ms) as millis
$$;
