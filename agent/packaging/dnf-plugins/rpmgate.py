# rpmgate dnf 4 plugin (shipped by rpmgate-agent, enabled by /etc/dnf/plugins/rpmgate.conf): after
# every completed transaction, start `rpmgate-agent report` in the background so that the rpmgate
# server learns at once what this host runs, instead of at the next hourly timer.
#
# It must never fail, slow or block a transaction: the agent is started detached (its own session,
# stdin/stdout/stderr on /dev/null, not waited for) and at a lower priority (nice 10, as the hourly
# service runs), anything that goes wrong is one warning, and a server that is down is the agent's
# business (the report waits in its spool for the next run).
# For a transaction in an --installroot, the agent reports on that root (--rpm-root), and only when
# the root is enrolled (its /etc/rpmgate/agent.env holds a token): an image being built stays silent.

import logging
import os
import shlex
import subprocess
import time

import dnf

logger = logging.getLogger('dnf.plugin.rpmgate')

DEFAULT_COMMAND = '/usr/bin/rpmgate-agent'
NICE = '/usr/bin/nice'
ENV_FILE = 'etc/rpmgate/agent.env'


class Rpmgate(dnf.Plugin):
    name = 'rpmgate'

    def __init__(self, base, cli):
        super(Rpmgate, self).__init__(base, cli)
        self.base = base

    def transaction(self):
        started = time.monotonic()
        try:
            pid = self._start_report()
        except Exception as error:  # never let a report fail the transaction
            logger.warning('rpmgate: rpmgate-agent report not started: %s', error)
            return
        if pid is not None:
            logger.debug('rpmgate: started rpmgate-agent report (pid %d) in %.1f ms', pid, (time.monotonic() - started) * 1000)

    def _start_report(self):
        root = self.base.conf.installroot or '/'
        if not _enrolled(os.path.join(root, ENV_FILE)):
            logger.debug('rpmgate: %s is not enrolled (no token in /%s): no report', root, ENV_FILE)
            return None
        argv = shlex.split(self._command())
        if os.path.realpath(root) != '/':
            argv += ['--rpm-root', root]
        argv.append('report')
        if os.access(NICE, os.X_OK):
            argv = [NICE, '-n', '10'] + argv
        with open(os.devnull, 'r+b') as devnull:
            child = subprocess.Popen(argv, stdin=devnull, stdout=devnull, stderr=devnull, close_fds=True, start_new_session=True, cwd='/')
        return child.pid

    def _command(self):
        conf = self.read_config(self.base.conf)
        if conf.has_section('main') and conf.has_option('main', 'command'):
            command = conf.get('main', 'command').strip()
            if command:
                return command
        return DEFAULT_COMMAND


def _enrolled(env_file):
    try:
        with open(env_file) as handle:
            return any(line.startswith('RPMGATE_TOKEN=') and line.strip() != 'RPMGATE_TOKEN=' for line in handle)
    except (IOError, OSError):
        return False
