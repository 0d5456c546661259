-- Entry checks (server/checks/): the exceptions that waive findings, their audit, the findings kept
-- with each accepted package, and the refusals (for the console's "refused on entry lately").
create table check_exceptions (
  id bigint generated always as identity primary key,
  -- The finding's check id ("setuid-file", "rpmlint:no-binary"), or a glob over them.
  check_id text not null,
  -- A package name or a glob over names.
  package_glob text not null,
  -- For per-file exceptions: a glob over the finding's file path.
  path_glob text,
  reason text not null,
  granted_by text not null,
  granted_at timestamptz not null default now(),
  expires_at timestamptz,
  -- Applies only while the package's version compares below it (rpm's rules).
  until_version text,
  removed_at timestamptz,
  removed_by text,
  constraint check_exceptions_texts check (length(check_id) between 1 and 200 and length(package_glob) between 1 and 200 and length(reason) between 1 and 2000)
);
create index check_exceptions_live_idx on check_exceptions (id) where removed_at is null;

create table check_exception_audit (
  id bigint generated always as identity primary key,
  exception_id bigint not null references check_exceptions (id),
  action text not null constraint check_exception_audit_action check (action in ('grant', 'remove')),
  actor text not null,
  at timestamptz not null default now()
);

create table package_findings (
  package_id bigint not null references packages (id) on delete cascade,
  position integer not null,
  check_id text not null,
  severity text not null constraint package_findings_severity check (severity in ('error', 'warning')),
  path text,
  message text not null,
  waived_by text,
  primary key (package_id, position)
);

create table entry_refusals (
  id bigint generated always as identity primary key,
  nevra text not null,
  uploaded_by text not null,
  refused_at timestamptz not null default now(),
  findings jsonb not null
);
create index entry_refusals_refused_at_idx on entry_refusals (refused_at desc);
