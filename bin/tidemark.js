#!/usr/bin/env node
// Launcher for the `tidemark` command (Node ≥ 22.18 runs the TypeScript sources directly).
import { relaunchDemoProcess } from '../src/cli/app/demo-process-flags.ts';

// Before the CLI's modules load: `tidemark demo` restarts itself with its process settings.
relaunchDemoProcess(process.argv.slice(2));
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
