# rpmgate's long-lived rpmlint: Debian's rpmlint 2.x imported once (its start-up is ~0.4 s of the
# ~0.5 s a one-file run costs), then one fresh rpmlint.lint.Lint per request, exactly as the rpmlint
# command builds it (same options, same configuration, new checks and output filter each time).
# Protocol, one JSON document per line: in, the argument list ["-c", CONFIG, FILE...]; out,
# {"code": rpmlint's exit status, "out": what it printed} or {"error": why it could not check}.
import contextlib
import io
import json
import sys

from rpmlint.cli import process_lint_args
from rpmlint.lint import Lint


def check(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = Lint(process_lint_args(argv)).run()
    return {'code': code, 'out': out.getvalue()}


def main():
    for line in sys.stdin:
        try:
            answer = check(json.loads(line))
        except KeyboardInterrupt:
            raise
        except SystemExit as exit_:
            answer = {'error': f'rpmlint exited with status {exit_.code}'}
        except BaseException as error:  # noqa: BLE001 - any failure of rpmlint is that file's finding
            answer = {'error': f'{type(error).__name__}: {error}'[:500]}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()


main()
