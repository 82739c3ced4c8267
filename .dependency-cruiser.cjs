// Import boundaries: marts <- stream, batch <- io <- jobs, server, cli. Drivers only in io/.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'marts-is-pure',
      comment: 'src/marts depends on nothing but itself and Node built-ins that do no I/O.',
      severity: 'error',
      from: { path: '^src/marts/' },
      to: { pathNot: '^src/marts/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-does-not-reach-outward',
      comment: 'stream and batch use marts only (and each other through marts), never io, jobs, server, cli.',
      severity: 'error',
      from: { path: '^src/(stream|batch)/' },
      to: { path: '^src/(io|jobs|server|cli)/' },
    },
    {
      name: 'core-has-no-drivers',
      severity: 'error',
      from: { path: '^src/(marts|stream|batch)/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'core'] },
    },
    {
      name: 'io-does-not-know-its-callers',
      severity: 'error',
      from: { path: '^src/io/' },
      to: { path: '^src/(jobs|server|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
