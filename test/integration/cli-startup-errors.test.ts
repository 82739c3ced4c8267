// A bad setting or an unreachable service (the database, the Kafka brokers) stops the CLI with
// exactly one line on stderr that names the key to fix, and a non-zero exit code; never a stack
// trace.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/run-cli.ts';

const home = mkdtempSync(join(tmpdir(), 'tidemark-startup-'));

const cases: { name: string; env: Record<string, string>; args: string[]; line: RegExp; code: number }[] = [
  {
    name: 'a non-numeric duration',
    env: { WATERMARK_DELAY: 'abc' },
    args: ['demo'],
    line: /^tidemark: configuration error: WATERMARK_DELAY="abc" is not a duration; expected a whole number followed by ms, s, m, h or d, e\.g\. 90s or 10m$/,
    code: 78,
  },
  {
    name: 'an unknown time zone',
    env: { MART_TIMEZONE: 'Mars/Olympus_Mons' },
    args: ['demo'],
    line: /^tidemark: configuration error: MART_TIMEZONE="Mars\/Olympus_Mons" is not a known time zone; expected an IANA name such as UTC, Europe\/Berlin or Asia\/Seoul$/,
    code: 78,
  },
  {
    name: 'a bad generator rate',
    env: { GENERATOR_RATE: 'fast' },
    args: ['demo'],
    line: /^tidemark: configuration error: GENERATOR_RATE="fast" is not a whole number; expected an integer from 1 to 100000$/,
    code: 78,
  },
  {
    name: 'an unreachable DATABASE_URL',
    // Port 1 on the loopback interface: refused at once.
    env: { DATABASE_URL: 'postgres://tidemark:secret@127.0.0.1:1/tidemark' },
    args: ['demo'],
    line: /^tidemark: DATABASE_URL: PostgreSQL at .*127\.0\.0\.1:1.* is unavailable: .*ECONNREFUSED.*$/,
    code: 69,
  },
  {
    name: 'unreachable KAFKA_BROKERS',
    // The consumer's start fails inside the stream component, which logs it as its one line.
    env: { KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'warn' },
    args: ['stream'],
    line: /^\{"ts":"[^"]+","level":"error","msg":"component failed",.*"error":"KAFKA_BROKERS: Kafka at 127\.0\.0\.1:1 is unavailable: kafka join group tidemark-stream failed: .*"\}$/,
    code: 69,
  },
  {
    name: 'an unreachable DATABASE_URL for archive',
    env: { DATABASE_URL: 'postgres://tidemark:secret@127.0.0.1:1/tidemark', KAFKA_BROKERS: '127.0.0.1:1' },
    args: ['archive'],
    line: /^tidemark: DATABASE_URL: PostgreSQL at .*127\.0\.0\.1:1.* is unavailable: .*ECONNREFUSED.*$/,
    code: 69,
  },
  {
    name: 'an unreachable DATABASE_URL for status',
    env: { DATABASE_URL: 'postgres://tidemark@127.0.0.1:1/tidemark' },
    args: ['status'],
    line: /^tidemark: DATABASE_URL: PostgreSQL at .*127\.0\.0\.1:1.* is unavailable: .*$/,
    code: 69,
  },
];

describe('CLI start-up errors', () => {
  for (const c of cases) {
    it(`prints one line naming the key for ${c.name}`, async () => {
      const result = await runCli(c.args, { TIDEMARK_HOME: home, ...c.env });
      expect(result.code).toBe(c.code);
      const lines = result.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(c.line);
      expect(result.stderr).not.toContain('secret');
      expect(result.stdout).toBe('');
    });
  }
});
