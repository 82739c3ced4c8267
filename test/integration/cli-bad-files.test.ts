// A file that is not what the command expects stops the CLI with exactly one line on stderr
// that names the file and the problem, and an exit code of its own; never a stack trace or a
// dump of the bytes, and never a silent exit 0 for a file of which nothing was an event.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeEventsToParquet } from '../../src/io/lake/parquet-events.ts';
import { PARQUET_FILE_CLASSES, PARQUET_GROUP_ROWS, seededRandom, validParquetRows } from '../fuzz/malformed-classes.ts';
import { runCli } from '../support/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tidemark-bad-files-'));
let seed = 7;
const randomBytes = Buffer.alloc(40_000);
for (let i = 0; i < randomBytes.length; i++) randomBytes[i] = (seed = (seed * 48271) % 2147483647) & 0xff;
writeFileSync(join(dir, 'random.bin'), randomBytes);
const anEvent = { event_id: 'a', event_ts: '2026-01-10T10:00:00Z', session_id: 's', document_id: 1, title: null, clinical_area: null };
writeFileSync(join(dir, 'array.json'), JSON.stringify([anEvent, anEvent], null, 2));
writeFileSync(join(dir, 'one-line-array.json'), `${JSON.stringify([anEvent])}\n`);
writeFileSync(join(dir, 'empty.jsonl'), '');
mkdirSync(join(dir, 'folder.jsonl'));
writeFileSync(join(dir, 'corrupt.parquet'), randomBytes.subarray(0, 3000));
writeFileSync(join(dir, 'truncated.parquet'), Buffer.concat([Buffer.from('PAR1'), randomBytes.subarray(0, 500)]));
const corruptGroup = PARQUET_FILE_CLASSES.find((c) => c.name === 'a corrupt row group')!;
const valid = encodeEventsToParquet(validParquetRows(1), { rowGroupSize: PARQUET_GROUP_ROWS });
writeFileSync(join(dir, 'corrupt-group.parquet'), (await corruptGroup.make(valid, seededRandom(1))).bytes);

const cases: { name: string; args: string[]; env?: Record<string, string>; line: RegExp; code: number }[] = [
  { name: 'random binary', args: ['replay', join(dir, 'random.bin')], line: /random\.bin: none of its \d+ messages is an event .*expected JSON Lines/, code: 65 },
  { name: 'a pretty-printed JSON array', args: ['replay', join(dir, 'array.json')], line: /array\.json: none of its 18 messages is an event/, code: 65 },
  { name: 'a one-line JSON array', args: ['replay', join(dir, 'one-line-array.json')], line: /one-line-array\.json: none of its 1 messages is an event/, code: 65 },
  { name: 'an empty file', args: ['replay', join(dir, 'empty.jsonl')], line: /empty\.jsonl: the file is empty/, code: 65 },
  { name: 'a missing file', args: ['replay', join(dir, 'missing.jsonl')], line: /missing\.jsonl: no such file$/, code: 66 },
  { name: 'a folder', args: ['replay', join(dir, 'folder.jsonl')], line: /folder\.jsonl: is a folder, not a file$/, code: 66 },
  { name: 'a missing .parquet', args: ['replay', join(dir, 'missing.parquet')], line: /missing\.parquet: no such file$/, code: 66 },
  { name: 'a corrupt .parquet', args: ['replay', join(dir, 'corrupt.parquet')], line: /corrupt\.parquet: not a readable Parquet file of events: /, code: 65 },
  { name: 'a truncated .parquet', args: ['replay', join(dir, 'truncated.parquet')], line: /truncated\.parquet: not a readable Parquet file of events: /, code: 65 },
  // The readable row groups are replayed: a warning, not a failure.
  { name: 'a .parquet with a corrupt row group', args: ['replay', join(dir, 'corrupt-group.parquet')], line: /^tidemark: warning: .*corrupt-group\.parquet: row group 1 \(rows 7…13\) cannot be read: .*; dead-lettered, the rest was replayed$/, code: 0 },
  {
    name: 's3:// without credentials',
    args: ['replay', 's3://no-bucket/prefix'],
    env: { S3_ENDPOINT: 'http://127.0.0.1:1', AWS_EC2_METADATA_DISABLED: 'true' },
    line: /^tidemark: s3:\/\/no-bucket\/prefix: the lake refused access: .*credentials.* \(check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY\)$/,
    code: 77,
  },
  { name: 'generate --out into a missing folder', args: ['generate', '--out', join(dir, 'no-such-folder', 'x.jsonl'), '--events', '10'], line: /x\.jsonl: cannot create: the folder .*no-such-folder does not exist$/, code: 73 },
];

describe('CLI bad files', () => {
  for (const [i, c] of cases.entries()) {
    it(`prints one line naming the file for ${c.name}`, async () => {
      const result = await runCli(c.args, { TIDEMARK_HOME: join(dir, `home-${i}`), LOG_LEVEL: 'warn', ...c.env });
      const lines = result.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^tidemark: /);
      expect(lines[0]).toMatch(c.line);
      expect(lines[0]!.length).toBeLessThan(1000);
      expect(result.code).toBe(c.code);
    });
  }
});
