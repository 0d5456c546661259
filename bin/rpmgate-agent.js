#!/usr/bin/env node
// Runs the TypeScript agent through tsx's loader: no build step between a checkout and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../agent/main.ts');
