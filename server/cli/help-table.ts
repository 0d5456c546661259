// Each rpmgate command's example and what its exit status 1 means, printed at the end of its --help
// (common/cli-help.ts). A new command without an entry fails at once: the program refuses to build.
import type { CommandHelp } from '../../common/cli-help.ts';

const refused = 'refused: not found, or not allowed for your role (the line on stderr says which)';

export const exitTwo = 'usage error, missing or invalid token, or the server cannot be reached';

export const rpmgateHelp: Record<string, CommandHelp> = {
  serve: { example: 'serve   # configured from the environment: PORT=8080 RPMGATE_DATA_DIR=/srv/rpmgate rpmgate serve', no: 'the server could not start (the line on stderr says why)' },
  migrate: { example: 'migrate   # with DATABASE_URL set, before starting new servers', no: 'a migration failed' },
  wait: { example: 'wait --timeout 30 && rpmgate set list' },
  upload: { example: 'upload ~/rpmbuild/RPMS/*/*.rpm ~/rpmbuild/SRPMS/*.rpm', no: 'at least one file was refused (each is listed with the reason)' },
  'set create': { example: 'set create billing 4.2.0 billing-4.2.0-1.x86_64 --resolve', no: 'refused: unknown packages or unresolved dependencies (listed), a version used before, or a role that may not create sets' },
  'set list': { example: 'set list --name billing --level release', no: refused },
  'set show': { example: 'set show billing/4.2.0', no: 'no such set' },
  'set promote': { example: 'set promote billing/4.2.0 qa_ready --comment "integration tests green"', no: 'refused: no such set, not the next level, or a role that may not promote to it' },
  'set diff': { example: 'set diff billing/4.1.0 billing/4.2.0', no: 'one of the sets does not exist' },
  'set delete': { example: 'set delete billing/4.2.0-rc1 --comment "wrong build"', no: 'refused: no such set, a set that was ever released (never deleted), or a role other than admin' },
  'token create': { example: 'token create --role developer --name alice', no: refused },
  'token list': { example: 'token list --all', no: refused },
  'token revoke': { example: 'token revoke alice', no: 'refused: no live token by that id or name, or a role other than admin' },
  hosts: { example: 'hosts --set billing/4.2.0 --drifting', no: refused },
  usage: { example: 'usage openssl-libs', no: refused },
  'key show': { example: 'key show   # no token needed: the public fingerprint' },
  'key add': { example: 'key add --algorithm rsa4096', no: refused },
  'key activate': { example: 'key activate 0123456789ABCDEF0123456789ABCDEF01234567', no: refused },
  'key retire': { example: 'key retire 0123456789ABCDEF0123456789ABCDEF01234567', no: refused },
  'exception add': { example: 'exception add --check setuid-file --package legacy-tools --path /usr/bin/ping --reason "needs raw sockets" --expires 2026-12-31', no: refused },
  'exception list': { example: 'exception list', no: refused },
  'exception remove': { example: 'exception remove 12', no: refused },
  'mirror add': { example: 'mirror add rocky9-baseos https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/ --key RPM-GPG-KEY-Rocky-9', no: refused },
  'mirror sync': { example: 'mirror sync rocky9-baseos', no: `${refused}; or the upstream failed (its previous metadata is kept)` },
  'mirror fetch': { example: 'mirror fetch openssl-libs-1:3.0.7-27.el9.x86_64', no: `${refused}; or the upstream package failed verification or the entry checks` },
  'mirror list': { example: 'mirror list', no: refused },
  'mirror show': { example: 'mirror show rocky9-baseos', no: refused },
  'mirror remove': { example: 'mirror remove rocky9-baseos', no: refused },
  'package show': { example: 'package show libfoo   # or a NEVRA: package show libfoo-1.2-3.x86_64', no: 'no stored package by that NEVRA or name' },
  'package delete': { example: 'package delete libfoo-1.2-3.x86_64 --comment "never used"', no: 'refused: no such package, a package a set holds (never deleted), or a role other than admin' },
  check: { example: 'check --all --dry-run', no: `stored packages would be refused by today's checks (listed); or ${refused}` },
  cleanup: { example: 'cleanup --dry-run --now 2026-01-01', no: refused },
  'store fsck': { example: 'store fsck --verify', no: 'a stored file is missing, unnamed or damaged (listed)' },
  'store migrate': { example: 'store migrate --to s3://rpmgate-packages/prod' },
  backup: { example: 'backup /srv/backups/rpmgate' },
  restore: { example: 'restore /srv/backups/rpmgate' },
  'agent publish': { example: 'agent publish rpmgate-agent-0.1.0-1.noarch.rpm', no: refused },
  completion: { example: 'completion bash > /etc/bash_completion.d/rpmgate' },
};
