// Entry point of the rpmgate command: run the program and exit with its status.
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv);
