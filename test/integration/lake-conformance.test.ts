// The Lake port's conformance suite on both adapters: a local folder, and S3 (s3proxy or MinIO)
// under a prefix unique to this run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { openLocalFolderLake } from '../../src/io/lake/local-folder-lake.ts';
import { openS3Lake } from '../../src/io/lake/s3-lake.ts';
import { emptyLake, runLakeConformance } from '../support/lake-conformance.ts';
import { testS3, uniquePrefix } from '../support/s3.ts';

runLakeConformance('local folder', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-lake-'));
  const lake = openLocalFolderLake(root);
  return {
    lake,
    dispose: async () => {
      await lake.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

const s3 = testS3();
describe.runIf(s3 !== undefined)('S3', () => {
  runLakeConformance('S3', async () => {
    const lake = openS3Lake({ ...s3!.config, bucket: s3!.bucket, prefix: uniquePrefix() });
    return {
      lake,
      dispose: async () => {
        await emptyLake(lake);
        await lake.close();
      },
    };
  });
});
