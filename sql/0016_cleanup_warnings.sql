-- Retention (server/retention): the warnings cleanup's first phase records and mails, and an audit of
-- what was deleted and by which rule.
--
-- A warning names one object (a set or a package) that a rule made eligible for deletion. It is
-- mailed to its recipients (one digest per recipient per run); `notified_at` is when the last of
-- them received it (or when it was recorded, with mail off or nobody to tell), and only from then on
-- does the delay run: `due_at`. Phase two deletes a warned object on or after `due_at` if it is still
-- eligible, and withdraws the warning of one that is not (a second mail says so).

create table cleanup_warnings (
  id bigint generated always as identity constraint cleanup_warnings_pkey primary key,
  kind text not null constraint cleanup_warnings_kind_check check (kind in ('set', 'package')),
  -- The object while it exists; its name stays in `object` after it is deleted.
  set_id bigint constraint cleanup_warnings_set_fkey references package_sets (id) on delete set null,
  package_id bigint constraint cleanup_warnings_package_fkey references packages (id) on delete set null,
  -- NAME/VERSION of a set, the NEVRA of a package.
  object text not null,
  rule text not null constraint cleanup_warnings_rule_check check (rule in ('redundant', 'too_old', 'obsolete', 'orphan')),
  reason text not null,
  -- Bytes the store would give back (a package's files; 0 for a set, whose packages go as orphans).
  bytes bigint not null default 0,
  recipients text[] not null default '{}',
  mailed_to text[] not null default '{}',
  warned_at timestamptz not null,
  notified_at timestamptz,
  due_at timestamptz,
  last_mail_error text,
  state text not null default 'pending'
    constraint cleanup_warnings_state_check check (state in ('pending', 'deleted', 'withdrawn')),
  resolved_at timestamptz,
  withdrawn_reason text,
  withdrawal_mailed_to text[] not null default '{}',
  constraint cleanup_warnings_object_check check (
    (kind = 'set' and package_id is null) or (kind = 'package' and set_id is null)),
  constraint cleanup_warnings_due_check check ((notified_at is null) = (due_at is null)),
  constraint cleanup_warnings_resolved_check check ((state = 'pending') = (resolved_at is null))
);

-- One pending warning per object: a run never warns twice about what it warned about already.
create unique index cleanup_warnings_pending_set_key on cleanup_warnings (set_id) where state = 'pending' and kind = 'set';
create unique index cleanup_warnings_pending_package_key on cleanup_warnings (package_id) where state = 'pending' and kind = 'package';
create index cleanup_warnings_state_idx on cleanup_warnings (state, id);
-- Withdrawals still to be mailed.
create index cleanup_warnings_withdrawal_mail_idx on cleanup_warnings (id)
  where state = 'withdrawn' and cardinality(recipients) > cardinality(withdrawal_mailed_to);

-- What was deleted, by whom (a user, or cleanup with the rule that deleted it), and when. Rows are
-- never changed nor deleted.
create table audit_events (
  id bigint generated always as identity constraint audit_events_pkey primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  object text not null,
  detail jsonb not null default '{}'
);
create index audit_events_at_idx on audit_events (at);

create function audit_events_guard() returns trigger
language plpgsql as $$
begin
  raise exception 'audit events are permanent' using errcode = 'P0001';
end $$;

create trigger audit_events_guard before update or delete on audit_events
  for each row execute function audit_events_guard();
create trigger audit_events_refuse_truncate before truncate on audit_events
  for each statement execute function refuse_truncate();

-- The orphan rule asks "does any set hold this package?" for every package: the primary key of
-- package_set_members leads with set_id, package_set_members_package_idx answers it. A set's own
-- history ("when did it reach its level?") is read from set_promotions_set_idx.
