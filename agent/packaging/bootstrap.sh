#!/bin/sh
# rpmgate bootstrap: takes this host from nothing to enrolled, configured, installed and reporting.
#
#   curl -fsS '@@SERVER_URL@@/bootstrap.sh?set=@@SET_URL@@' | sudo RPMGATE_ENROLLMENT_TOKEN=... sh
#
# 1. The server's signing key, checked against the fingerprints given in RPMGATE_KEY_FINGERPRINT
#    (comma-separated; what `rpmgate key show` prints, handed over out of band), or else against those
#    this script was served with; kept as /etc/pki/rpm-gpg/RPM-GPG-KEY-rpmgate and imported into rpm.
# 2. /etc/yum.repos.d/rpmgate.repo: the agent's repository, checked with that key.
# 3. rpmgate-agent installed with dnf (it requires the distribution's nodejs >= 20).
# 4. Enrolled with RPMGATE_ENROLLMENT_TOKEN: this host's own agent token lands in /etc/rpmgate/agent.env
#    (the enrollment token is not stored).
# 5. The set's repository configured (rpmgate-agent configure).
# 6. rpmgate-agent.timer enabled (hourly reports; the dnf hooks report after every transaction).
# 7. A first report.
# Every step is skipped when it is done already: run twice, the second run changes nothing. Any failure
# stops it with one line on stderr and exit status 1.
#
# Served by rpmgate from agent/packaging/bootstrap.sh; the lines between "served values" are filled in.

main() {
  # --- served values
  server=@@SERVER@@
  set_ref=@@SET@@
  served_fingerprints=@@FINGERPRINTS@@
  # --- end of served values

  # For tests only: bootstrap the installroot DIR instead of this host (rpm --root, dnf --installroot,
  # and the agent and Node.js installed in DIR, run from here with --rpm-root DIR).
  root=${RPMGATE_BOOTSTRAP_ROOT:-}
  changes=0
  tmp=

  if [ -n "$root" ]; then
    case $root in
      /*) [ -d "$root" ] || fail "RPMGATE_BOOTSTRAP_ROOT $root is not a directory" ;;
      *) fail "RPMGATE_BOOTSTRAP_ROOT must be an absolute path, not $root" ;;
    esac
  fi
  [ "$(id -u)" = 0 ] || fail "run it as root (sudo)"
  for tool in curl gpg rpm rpmkeys dnf; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
  done
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/rpmgate-bootstrap.XXXXXX") || fail "cannot make a temporary directory"
  trap 'cleanup' EXIT
  trap 'exit 130' INT TERM

  key_file=$root/etc/pki/rpm-gpg/RPM-GPG-KEY-rpmgate
  repo_file=$root/etc/yum.repos.d/rpmgate.repo
  env_file=$root/etc/rpmgate/agent.env

  trust_key
  write_agent_repo
  install_agent
  enroll
  configure_set
  enable_timer
  run "report" agent report
  say "$(last_line "$tmp/out")"
  if [ "$changes" = 0 ]; then
    say "done: nothing changed ($set_ref, $server)"
  else
    say "done: this host is enrolled with $server, follows $set_ref and reports"
  fi
}

trust_key() {
  run "fetching the signing key" curl -fsS --retry 2 -o "$tmp/key.asc" "$server/keys/rpmgate.asc"
  mkdir -m 0700 "$tmp/gnupg" || fail "cannot make a temporary GnuPG home"
  # show-only: read the keys without importing them anywhere (gpg >= 2.1.14, as on EL 8 and later).
  run "reading the signing key" env GNUPGHOME="$tmp/gnupg" gpg --batch --no-tty --with-colons --import-options show-only --import "$tmp/key.asc"
  awk -F: '$1 == "pub" { want = 1; next } $1 == "fpr" && want { print toupper($10); want = 0 }' "$tmp/out" >"$tmp/served"
  [ -s "$tmp/served" ] || fail "$server/keys/rpmgate.asc holds no OpenPGP public key"
  expected=$(printf '%s' "${RPMGATE_KEY_FINGERPRINT:-$served_fingerprints}" | tr -d ' \t' | tr ',' '\n' | tr 'a-f' 'A-F')
  given=${RPMGATE_KEY_FINGERPRINT:+RPMGATE_KEY_FINGERPRINT}
  while read -r fingerprint; do
    printf '%s\n' "$expected" | grep -qx "$fingerprint" ||
      fail "the server's key $fingerprint is not in ${given:-the list this script was served with} ($(printf '%s\n' "$expected" | paste -sd, -)): not trusting it"
  done <"$tmp/served"

  if [ -f "$key_file" ] && cmp -s "$tmp/key.asc" "$key_file"; then
    say "signing key $(tr '\n' ' ' <"$tmp/served")already kept in /etc/pki/rpm-gpg"
  else
    run "keeping the signing key" install -D -m 0644 "$tmp/key.asc" "$key_file"
    say "signing key $(tr '\n' ' ' <"$tmp/served")checked and kept in /etc/pki/rpm-gpg/RPM-GPG-KEY-rpmgate"
    changes=1
  fi
  # rpm names an imported key gpg-pubkey-<last 8 hex digits of its fingerprint>.
  rpmq -q gpg-pubkey --qf '%{VERSION}\n' >"$tmp/imported" 2>/dev/null || :
  missing=
  while read -r fingerprint; do
    short=$(printf '%s' "$fingerprint" | tail -c 8 | tr 'A-F' 'a-f')
    grep -qx "$short" "$tmp/imported" || missing=1
  done <"$tmp/served"
  if [ -n "$missing" ]; then
    if [ -n "$root" ]; then
      run "importing the signing key into rpm" rpmkeys --root "$root" --import "$key_file"
    else
      run "importing the signing key into rpm" rpmkeys --import "$key_file"
    fi
    say "signing key imported into rpm"
    changes=1
  fi
}

write_agent_repo() {
  cat >"$tmp/rpmgate.repo" <<EOF
# Written by rpmgate's bootstrap script: the repository of rpmgate-agent, checked with the key the
# script verified. The set's own repository is rpmgate-<name>.repo, written by rpmgate-agent configure.
[rpmgate-agent]
name=rpmgate agent
baseurl=$server/repo/agent/
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-rpmgate
metadata_expire=3600
skip_if_unavailable=1
EOF
  if [ -f "$repo_file" ] && cmp -s "$tmp/rpmgate.repo" "$repo_file"; then
    say "agent repository already in /etc/yum.repos.d/rpmgate.repo"
  else
    run "writing /etc/yum.repos.d/rpmgate.repo" install -D -m 0644 "$tmp/rpmgate.repo" "$repo_file"
    say "agent repository written to /etc/yum.repos.d/rpmgate.repo"
    changes=1
  fi
}

install_agent() {
  installed=$(rpmq -q rpmgate-agent 2>/dev/null) || installed=
  if [ -n "$installed" ]; then
    say "$installed already installed"
    return
  fi
  # skip_if_unavailable=0 here: a missing repository must be this error, not "no match".
  if [ -n "$root" ]; then
    # dnf reads gpgkey paths from the host even with --installroot (dnf(8)): name the root's copy.
    run "installing rpmgate-agent" dnf -y --installroot="$root" --setopt=rpmgate-agent.skip_if_unavailable=0 \
      "--setopt=rpmgate-agent.gpgkey=file://$key_file" install rpmgate-agent
  else
    run "installing rpmgate-agent" dnf -y --setopt=rpmgate-agent.skip_if_unavailable=0 install rpmgate-agent
  fi
  installed=$(rpmq -q rpmgate-agent 2>/dev/null) || installed=
  [ -n "$installed" ] || fail "dnf did not install rpmgate-agent"
  say "$installed installed"
  changes=1
}

enroll() {
  enrolled_url=$(sed -n 's/^RPMGATE_URL=//p' "$env_file" 2>/dev/null | tail -n 1)
  if grep -q '^RPMGATE_TOKEN=[^[:space:]]' "$env_file" 2>/dev/null; then
    [ "$enrolled_url" = "$server" ] ||
      fail "this host is enrolled with ${enrolled_url:-another server} (/etc/rpmgate/agent.env), not $server"
    say "already enrolled with $server"
    return
  fi
  [ -n "${RPMGATE_ENROLLMENT_TOKEN:-}" ] ||
    fail "RPMGATE_ENROLLMENT_TOKEN is not set: run it as ... | sudo RPMGATE_ENROLLMENT_TOKEN=<a fleet enrollment token> sh"
  run "enrolling" agent --server "$server" enroll
  say "$(last_line "$tmp/out")"
  changes=1
}

configure_set() {
  if grep -qxF "# rpmgate-agent: set $set_ref" "$root"/etc/yum.repos.d/*.repo 2>/dev/null; then
    say "already configured for $set_ref"
    return
  fi
  run "configuring $set_ref" agent configure --set "$set_ref"
  say "$(head -n 1 "$tmp/out")"
  changes=1
}

enable_timer() {
  if ! command -v systemctl >/dev/null 2>&1; then
    say "warning: no systemctl: rpmgate-agent.timer is not enabled (the dnf hooks still report after each transaction)"
    return
  fi
  if [ -n "$root" ]; then
    if [ "$(systemctl --root="$root" is-enabled rpmgate-agent.timer 2>/dev/null </dev/null)" = enabled ]; then
      say "rpmgate-agent.timer already enabled"
      return
    fi
    run "enabling rpmgate-agent.timer" systemctl --root="$root" enable rpmgate-agent.timer
  elif [ -d /run/systemd/system ]; then
    if [ "$(systemctl is-enabled rpmgate-agent.timer 2>/dev/null </dev/null)" = enabled ] &&
      systemctl is-active --quiet rpmgate-agent.timer </dev/null; then
      say "rpmgate-agent.timer already enabled"
      return
    fi
    run "enabling rpmgate-agent.timer" systemctl enable --now rpmgate-agent.timer
  else
    # Not booted with systemd (an image being built, a container): enabled for the next boot.
    if [ "$(systemctl is-enabled rpmgate-agent.timer 2>/dev/null </dev/null)" = enabled ]; then
      say "rpmgate-agent.timer already enabled"
      return
    fi
    run "enabling rpmgate-agent.timer" systemctl enable rpmgate-agent.timer
  fi
  say "rpmgate-agent.timer enabled"
  changes=1
}

# The agent as installed; under RPMGATE_BOOTSTRAP_ROOT, the root's agent and Node.js, run from here.
agent() {
  if [ -n "$root" ]; then
    "$root/usr/bin/node" "$root/usr/bin/rpmgate-agent" --rpm-root "$root" "$@"
  else
    /usr/bin/rpmgate-agent "$@"
  fi
}

# rpm queries, of the root under RPMGATE_BOOTSTRAP_ROOT.
rpmq() {
  if [ -n "$root" ]; then
    rpm --root "$root" "$@" </dev/null
  else
    rpm "$@" </dev/null
  fi
}

# run STEP COMMAND...: the command's output goes to $tmp/out (and the log); when it fails, the last line
# it printed becomes the one line of the failure.
run() {
  step=$1
  shift
  if "$@" </dev/null >"$tmp/out" 2>&1; then
    cat "$tmp/out" >>"$tmp/log"
    return 0
  fi
  cat "$tmp/out" >>"$tmp/log"
  fail "$step failed: $(last_line "$tmp/out")"
}

last_line() {
  sed -n '/[^[:space:]]/h; ${x;p;}' "$1"
}

say() {
  printf 'rpmgate bootstrap: %s\n' "$*"
}

fail() {
  printf 'rpmgate bootstrap: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then
    if [ -d "$tmp/gnupg" ]; then
      env GNUPGHOME="$tmp/gnupg" gpgconf --kill all </dev/null >/dev/null 2>&1 || :
    fi
    rm -rf "$tmp"
  fi
}

main "$@"
