// A minimal Lake over an S3-compatible endpoint, for the batch benchmark only. The production
// S3 adapter lives in src/io/lake/ (written alongside); this one keeps the benchmark runnable on
// its own and should be replaced by that adapter once both are on one branch.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Lake, LakeObject } from '../src/io/lake/lake.ts';

export interface BenchS3Options {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
}

export function openBenchS3Lake(o: BenchS3Options): Lake {
  const client = new S3Client({
    endpoint: o.endpoint,
    region: o.region,
    forcePathStyle: true,
    // S3-compatible servers (s3proxy, older MinIO) reject the SDK's default CRC32 checksum headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
  });
  const full = (key: string): string => `${o.prefix}${key}`;
  return {
    url: `s3://${o.bucket}/${o.prefix}`,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: o.bucket, Key: full(key), Body: body }));
    },
    async get(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: o.bucket, Key: full(key) }));
        return out.Body === undefined ? new Uint8Array() : await out.Body.transformToByteArray();
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },
    async list(prefix) {
      const found: LakeObject[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: full(prefix), ContinuationToken: token }));
        for (const c of page.Contents ?? []) if (c.Key !== undefined) found.push({ key: c.Key.slice(o.prefix.length), size: c.Size ?? 0 });
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: full(key) }));
    },
    async close() {
      client.destroy();
    },
  };
}
