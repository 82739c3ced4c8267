#!/usr/bin/env -S node --max-semi-space-size=16
// Launcher for the `tidemark` command (Node ≥ 22.18 runs the TypeScript sources directly).
// --max-semi-space-size: see "Memory" in the README (every launcher passes the same flag).
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
