// S3 for integration tests: the S3-compatible store named by TEST_S3_* (written by
// `scripts/services.sh up` to .services/env.sh). Every test works under its own prefix of
// TEST_S3_BUCKET, so concurrent runs never see each other's objects. Outside CI a missing
// variable skips the S3 suites; under CI it fails them.
import { randomUUID } from 'node:crypto';
import type { TidemarkConfig } from '../../src/config.ts';

function isCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export interface TestS3 {
  readonly bucket: string;
  readonly config: TidemarkConfig['s3'];
  /** The variables a `tidemark` child process needs to reach the same store. */
  readonly env: Record<string, string>;
}

export function testS3(): TestS3 | undefined {
  const read = (name: string): string | undefined => {
    const value = process.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const endpoint = read('TEST_S3_ENDPOINT');
  const bucket = read('TEST_S3_BUCKET');
  if (endpoint === undefined || bucket === undefined) {
    if (isCi()) throw new Error('TEST_S3_ENDPOINT / TEST_S3_BUCKET are not set under CI: the S3 tests would be skipped.');
    return undefined;
  }
  const config = {
    endpoint,
    region: read('TEST_S3_REGION') ?? 'us-east-1',
    accessKeyId: read('TEST_S3_ACCESS_KEY_ID') ?? null,
    secretAccessKey: read('TEST_S3_SECRET_ACCESS_KEY') ?? null,
    forcePathStyle: (read('TEST_S3_FORCE_PATH_STYLE') ?? 'true') !== 'false',
  };
  return { bucket, config, env: s3Env(config) };
}

/** The variables a `tidemark` child process needs to reach the store `config` names. */
export function s3Env(config: TidemarkConfig['s3']): Record<string, string> {
  return {
    ...(config.endpoint === null ? {} : { S3_ENDPOINT: config.endpoint }),
    S3_REGION: config.region,
    ...(config.accessKeyId === null ? {} : { S3_ACCESS_KEY_ID: config.accessKeyId }),
    ...(config.secretAccessKey === null ? {} : { S3_SECRET_ACCESS_KEY: config.secretAccessKey }),
    S3_FORCE_PATH_STYLE: String(config.forcePathStyle),
  };
}

/** A prefix no other test run uses: 'test-<uuid>/'. */
export function uniquePrefix(): string {
  return `test-${randomUUID()}/`;
}
