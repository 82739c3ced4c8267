// The lake in a local folder (LAKE_URL=file:///path; the embedded default). Writes go to a
// temporary file that is renamed into place, so a reader or a crash never leaves half an object.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Lake, LakeObject } from './lake.ts';

const TEMP_SUFFIX = '.tmp-';

export function openLocalFolderLake(root: string, url = `file://${root}`): Lake {
  const pathOf = (key: string): string => {
    if (key.split('/').some((part) => part === '..' || part === '')) throw new Error(`invalid lake key '${key}'`);
    return join(root, ...key.split('/'));
  };
  return {
    url,
    async put(key, body) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      const temp = `${target}${TEMP_SUFFIX}${randomUUID()}`;
      await writeFile(temp, body);
      await rename(temp, target);
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async list(prefix) {
      const found: LakeObject[] = [];
      let entries: string[];
      try {
        entries = await readdir(root, { recursive: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      for (const entry of entries) {
        const key = relative(root, join(root, entry)).split(sep).join('/');
        if (!key.startsWith(prefix) || key.includes(TEMP_SUFFIX)) continue;
        const info = await stat(join(root, entry));
        if (info.isFile()) found.push({ key, size: info.size });
      }
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async close() {},
  };
}
