#!/usr/bin/env node
// The rpmgate-agent command: the bundled agent when it is up to date, else the sources through tsx (launch.js).
import { launch } from './launch.js';

await launch('dist/agent/rpmgate-agent.mjs', 'agent/main.ts');
