// Problems with a file the user named (a replay's input, an output folder): each has its own
// exit code, and its message names the file, so the CLI prints one line instead of a stack.
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** sysexits(3) codes: the input is missing or unreadable, malformed, or the output cannot be created. */
export const EXIT_NO_INPUT = 66;
export const EXIT_DATA_ERROR = 65;
export const EXIT_CANNOT_CREATE = 73;
/** The store holding the input is unreachable, or refuses our credentials. */
export const EXIT_UNAVAILABLE = 69;
export const EXIT_NO_PERMISSION = 77;

export class InputFileError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Fails with an InputFileError unless `path` is a regular file; resolves to its size in bytes. */
export async function checkInputFile(path: string): Promise<number> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new InputFileError(`${path}: ${why}`, EXIT_NO_INPUT, { cause: error });
  }
  if (info.isDirectory()) throw new InputFileError(`${path}: is a folder, not a file`, EXIT_NO_INPUT);
  if (!info.isFile()) throw new InputFileError(`${path}: not a regular file`, EXIT_NO_INPUT);
  return info.size;
}

/** Fails with an InputFileError unless the folder `path` would be written into exists. */
export async function checkOutputPath(path: string): Promise<void> {
  const folder = dirname(resolve(path));
  let isFolder: boolean;
  try {
    isFolder = (await stat(folder)).isDirectory();
  } catch {
    isFolder = false;
  }
  if (!isFolder) throw new InputFileError(`${path}: cannot create: the folder ${folder} does not exist`, EXIT_CANNOT_CREATE);
  try {
    if ((await stat(path)).isDirectory()) throw new InputFileError(`${path}: cannot create: it is a folder`, EXIT_CANNOT_CREATE);
  } catch (error) {
    if (error instanceof InputFileError) throw error;
  }
}
