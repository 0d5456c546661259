#!/usr/bin/env node
// The rpmgate command: the bundled CLI when it is up to date, else the sources through tsx (launch.js).
import { launch } from './launch.js';

await launch('dist/cli/rpmgate.mjs', 'server/cli/main.ts');
