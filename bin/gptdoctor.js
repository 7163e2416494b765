#!/usr/bin/env node
// Entry point: the TypeScript build lives in dist/ (made by `npm ci` through the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
