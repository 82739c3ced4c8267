#!/usr/bin/env node
// The `tidemark` command: parses flags, loads and validates configuration once, and calls the
// rest. Errors a user can fix print one line and exit non-zero, without a stack trace.
// Each command lives in src/cli/commands/; this file only routes to them.
import { ConfigError } from '../config.ts';
import { DatabaseOutageError } from '../io/db/errors.ts';
import { InputFileError } from '../io/file/input-file.ts';
import { KafkaOutageError, KafkaUnavailableError } from '../io/kafka/kafka-errors.ts';
import { LakeOutageError } from '../io/lake/patient-lake.ts';
import { StartupError, UsageError } from './command.ts';
import type { Command } from './command.ts';
import { EXIT_INTERNAL_ERROR, installFatalErrorHandlers } from './fatal-errors.ts';
import { ARCHIVE_COMMANDS } from './commands/archive-command.ts';
import { JOB_COMMANDS } from './commands/job-commands.ts';
import { RECONCILE_COMMANDS } from './commands/reconcile-command.ts';
import { RETENTION_COMMANDS } from './commands/retention-command.ts';
import { STREAM_COMMANDS } from './commands/stream-commands.ts';
import { DEMO_COMMANDS } from './commands/demo-command.ts';
import { OPERATOR_COMMANDS } from './commands/operator-commands.ts';
import { relaunchDemoProcess } from './app/demo-process-flags.ts';

const COMMANDS: Record<string, Command> = {
  ...STREAM_COMMANDS,
  ...ARCHIVE_COMMANDS,
  ...JOB_COMMANDS,
  ...RECONCILE_COMMANDS,
  ...RETENTION_COMMANDS,
  ...DEMO_COMMANDS,
  ...OPERATOR_COMMANDS,
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `tidemark — streaming hot/cold data-mart engine

Usage: tidemark <command> [options]     (tidemark <command> --help for details)

Commands:
${lines.join('\n')}

Configuration comes from the environment (see .env.example) or TIDEMARK_CONFIG=file.json.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`tidemark: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tidemark: configuration error: ${error.message}\n`);
      return 78;
    }
    if (error instanceof KafkaUnavailableError) {
      // Raised by the consumer's start inside a component, which logged it as its one line.
      return 69;
    }
    if (error instanceof StartupError) {
      process.stderr.write(`tidemark: ${error.message.replace(/\s+/g, ' ')}\n`);
      return 69;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`tidemark ${name}: ${error.message}\n\n${command.usage}\n`);
      return 64;
    }
    if (error instanceof DatabaseOutageError || error instanceof KafkaOutageError || error instanceof LakeOutageError) {
      // The stream or archive writer already logged it as its one structured line ("component
      // failed"). A client that could not close while its service is away (its retry timers
      // still armed) must not keep the process from exiting: give it a moment, then go.
      setTimeout(() => process.exit(EXIT_TEMPORARY_FAILURE), OUTAGE_EXIT_GRACE_MS).unref();
      return EXIT_TEMPORARY_FAILURE;
    }
    if (error instanceof InputFileError) {
      process.stderr.write(`tidemark: ${oneLine(error.message)}\n`);
      return error.exitCode;
    }
    // Anything else is a defect or an outage nobody classified: still one line, never a stack
    // (which could quote the message bytes at length); the code says "internal software error".
    process.stderr.write(`tidemark ${name}: unexpected error: ${oneLine((error as Error)?.message ?? String(error))}\n`);
    return EXIT_INTERNAL_ERROR;
  }
}

/** sysexits(3) EX_TEMPFAIL: a service stayed unavailable; a supervisor may restart us. */
const EXIT_TEMPORARY_FAILURE = 75;
const OUTAGE_EXIT_GRACE_MS = 5000;

/** A message as one readable line: whitespace runs collapsed, control bytes shown, length capped. */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = message.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '?');
  return flat.length <= 1000 ? flat : `${flat.slice(0, 1000)}…`;
}

if (import.meta.main) {
  relaunchDemoProcess(process.argv.slice(2));
  const fatal = installFatalErrorHandlers();
  const code = await main(process.argv.slice(2));
  process.exitCode = fatal.failed() ? EXIT_INTERNAL_ERROR : code;
}
