-- Cleanup at scale (bench:cleanup): deleting a set or a package sets its warnings' reference to null
-- (sql/0016), which without these indexes reads the whole warnings table for every deletion.
create index cleanup_warnings_set_idx on cleanup_warnings (set_id) where set_id is not null;
create index cleanup_warnings_package_idx on cleanup_warnings (package_id) where package_id is not null;

-- A withdrawal is mailed to those who received the warning (mailed_to), not to every recipient.
drop index cleanup_warnings_withdrawal_mail_idx;
create index cleanup_warnings_withdrawal_mail_idx on cleanup_warnings (id)
  where state = 'withdrawn' and cardinality(mailed_to) > cardinality(withdrawal_mailed_to);
