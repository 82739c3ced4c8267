// Smoke test of bench:peers with a few thousand events: Flink's exact marts must agree with
// tidemark's row for row. Runs only where scripts/provision-peers.sh has filled the cache (CI's
// default provisioning does not: the JVM peers are benchmark-only) and the real services are up.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const provisioned = existsSync(join(root, '.cache/peers/jars.stamp')) && existsSync(join(root, '.cache/peers/flink/classes/FlinkPeer.class'));
const services = process.env['TEST_DATABASE_URL'] !== undefined && process.env['TEST_KAFKA_BROKERS'] !== undefined;

describe.skipIf(!provisioned || !services)('bench:peers smoke (provisioned peers only)', () => {
  it('runs tidemark and Flink on 3,000 events and finds no differing final row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peers-smoke-'));
    try {
      const out = join(dir, 'result.json');
      await promisify(execFile)(process.execPath, [join(root, 'bench/peers/peers-bench.ts'), '--events', '3000', '--engines', 'tidemark,flink', '--heap', '1g', '--json', out], {
        cwd: root,
        maxBuffer: 16 * 2 ** 20,
      });
      const result = JSON.parse(readFileSync(out, 'utf8')) as {
        engines: { engine: string }[];
        comparisons: { engine: string; mart: string; diff: { tidemarkRows: number; peerRows: number; differing: number } }[];
      };
      expect(result.engines.map((e) => e.engine)).toEqual(['tidemark', 'Flink 2.2 SQL']);
      expect(result.comparisons.map((c) => [c.mart, c.diff.differing, c.diff.peerRows === c.diff.tidemarkRows])).toEqual([
        ['traffic per minute', 0, true],
        ['top docs 1 h', 0, true],
        ['clinical trend 24 h', 0, true],
      ]);
      // 3,000 events over 1 h: the final watermark has passed some windows of every mart.
      expect(result.comparisons.every((c) => c.diff.tidemarkRows > 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
