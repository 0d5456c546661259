// Entry point of the rpmgate-agent command: run the program and exit with its status.
import { runAgentCli } from './cli.ts';

process.exitCode = await runAgentCli(process.argv);
