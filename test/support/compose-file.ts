// docker-compose.yaml read the way compose reads it, for the test that runs its services natively
// (test/integration/compose-services.test.ts): the Dockerfile's instructions that shape the image,
// compose's variable interpolation, and a service's volumes as paths of this machine.

export interface ComposeService {
  readonly image?: string;
  readonly command?: string[];
  readonly restart?: string;
  readonly profiles?: string[];
  readonly environment?: Record<string, string | number | boolean | null>;
  readonly healthcheck?: { readonly test?: string[] };
  readonly volumes?: string[];
}

/** The Dockerfile's instructions that shape /app: COPY sources, ENV, RUN, in file order. */
export function dockerfileSteps(text: string): { copies: [string, string][]; env: Record<string, string>; runs: string[] } {
  // Continuations are joined; comment lines inside a continued instruction are dropped, as Docker does.
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    current += ` ${line.replace(/\\$/, '')}`;
    if (!line.endsWith('\\')) {
      logical.push(current.trim());
      current = '';
    }
  }
  const copies: [string, string][] = [];
  const env: Record<string, string> = {};
  const runs: string[] = [];
  for (const instruction of logical) {
    const [keyword, ...rest] = instruction.split(/\s+/);
    if (keyword === 'COPY') {
      const dest = rest.pop() as string;
      for (const source of rest) copies.push([source, dest]);
    } else if (keyword === 'ENV') {
      for (const pair of rest) {
        const [k, v] = pair.split('=');
        if (k !== undefined && v !== undefined) env[k] = v;
      }
    } else if (keyword === 'RUN') {
      runs.push(rest.join(' '));
    }
  }
  return { copies, env, runs };
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, and $$ for a literal $. */
export function interpolate(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (match, name: string | undefined, kind: string | undefined, arg: string | undefined) => {
    if (match === '$$') return '$';
    const value = vars[name ?? ''];
    if (value !== undefined && value !== '') return value;
    if (kind === '?') throw new Error(`compose would refuse to start: ${name ?? ''}: ${arg ?? ''}`);
    return kind === '-' ? (arg ?? '') : '';
  });
}

/**
 * A service's view of the file system as [path in the container, path here]:
 * a bind mount (./x) is the project's x (or `bindOverrides[./x]`), a named volume a folder of
 * `volumesDir`, and the container's own /tmp a private folder.
 */
export function composeMounts(
  service: ComposeService,
  options: { root: string; volumesDir: string; tmpDir: string; bindOverrides?: Readonly<Record<string, string>> },
): [string, string][] {
  const mounts: [string, string][] = [['/tmp', options.tmpDir]];
  for (const volume of service.volumes ?? []) {
    const [source = '', target = ''] = volume.split(':');
    const here = source.startsWith('./')
      ? (options.bindOverrides?.[source] ?? `${options.root}/${source.slice(2)}`)
      : `${options.volumesDir}/${source}`;
    mounts.push([target, here]);
  }
  return mounts;
}

/**
 * Every container path in `text` (a whole path or a path prefix, never a substring) as its path
 * here, in one pass: a path already mapped is not mapped again.
 */
export function mapPaths(text: string, mounts: readonly (readonly [string, string])[]): string {
  if (mounts.length === 0) return text;
  const byPath = new Map(mounts);
  const alternatives = [...byPath.keys()].sort((a, b) => b.length - a.length).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`(^|[=\\s"'])(${alternatives.join('|')})(?=$|[/\\s"'])`, 'g');
  return text.replace(pattern, (_m, lead: string, inside: string) => `${lead}${byPath.get(inside) ?? inside}`);
}
