-- One live agent token per host, held by the schema: a token cannot bind to a machine that another
-- live token is bound to already (an enrolled host that has not reported yet included).
-- Should several live tokens be bound to one machine already, the one its host row names (else the
-- oldest) stays, and the others are revoked.
with ranked as (
  select t.id,
         row_number() over (partition by t.machine_id order by (h.token_id = t.id) desc nulls last, t.id) as rank
  from tokens t left join hosts h on h.machine_id = t.machine_id
  where t.machine_id is not null and t.revoked_at is null
)
update tokens set revoked_at = now() where id in (select id from ranked where rank > 1);

create unique index tokens_one_live_per_machine on tokens (machine_id)
  where machine_id is not null and revoked_at is null;
