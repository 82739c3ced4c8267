// An S3-compatible server of the test's own (s3proxy over a temporary folder, a free port, one
// bucket), for tests that stop and restart the store under running processes without disturbing
// the shared one other tests use. It runs the jar provisioning caches under .cache/s3proxy,
// configured as scripts/services.sh configures the shared one. stop() and start() keep the port
// and the stored objects, as a restarted server would.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { javaService, provisioned } from './java-service.ts';
import { freePort } from './net.ts';
import { s3Env } from './s3.ts';
import type { TestS3 } from './s3.ts';

const JAR = fileURLToPath(new URL('../../.cache/s3proxy/s3proxy.jar', import.meta.url));

export interface PrivateS3 extends TestS3 {
  /** Stops the server: SIGTERM by default, SIGKILL as a crash. */
  stop(mode?: 'graceful' | 'kill'): Promise<void>;
  /** Starts it again on the same port and folder, and waits until it answers. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Whether the s3proxy jar is here (provisioning downloads it); CI must have it. */
export function privateS3Available(): boolean {
  return provisioned(JAR);
}

/** jclouds' filesystem store writes an object as `<key>-<uuid>` and renames it when complete. */
const PARTIAL_WRITE = /-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Removes the temporary files of uploads cut off by a stop: the filesystem store would list them
 * as objects, where S3 never shows an upload that did not complete. What a restarted S3 does.
 */
async function dropPartialWrites(dataDir: string): Promise<void> {
  const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile() && PARTIAL_WRITE.test(entry.name)) await rm(join(entry.parentPath, entry.name), { force: true });
  }
}

export async function startPrivateS3(): Promise<PrivateS3> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-s3-'));
  await mkdir(join(dir, 'data'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = `test-${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(18).toString('hex');
  const bucket = 'outage-test';
  const conf = join(dir, 's3proxy.conf');
  const logFile = join(dir, 's3proxy.log');
  await writeFile(
    conf,
    [
      `s3proxy.endpoint=${endpoint}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${accessKeyId}`,
      `s3proxy.credential=${secretAccessKey}`,
      'jclouds.provider=filesystem-nio2',
      `jclouds.filesystem.basedir=${join(dir, 'data')}`,
      '',
    ].join('\n'),
  );
  const config = { endpoint, region: 'us-east-1', accessKeyId, secretAccessKey, forcePathStyle: true };

  const { start, stop } = javaService({
    what: `the private S3 server on port ${port}`,
    args: ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', JAR, '--properties', conf],
    logFile,
    // Any HTTP answer (403 without credentials) means it serves requests.
    ready: async () => {
      await fetch(`${endpoint}/`);
      return true;
    },
    timeoutMs: 120_000,
  });

  await start();
  const client = new S3Client({ ...config, credentials: { accessKeyId, secretAccessKey } });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return {
    bucket,
    config,
    env: s3Env(config),
    stop,
    async start() {
      await dropPartialWrites(join(dir, 'data'));
      await start();
    },
    async dispose() {
      await stop('kill');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
