// Lint rules: typescript-eslint's type-aware recommended set plus the few habits the team keeps.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.*.ts', 'node_modules/', '.cache/', '.services/', '.tidemark/', 'test-artifacts/', 'superset/**/*.py'] },
  js.configs.recommended,
  {
    // Plain JavaScript files run on Node: its globals exist there.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', module: 'writable', require: 'readonly', console: 'readonly' } },
  },
  {
    // The console's script runs in the browser, with uPlot loaded before it.
    files: ['src/server/console/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', EventSource: 'readonly', uPlot: 'readonly', console: 'readonly' },
    },
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Tool configuration files are loaded by their tools through a default export.
    files: ['*.config.ts', '*.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // The pure core never reads the environment or the clock directly: both are passed in.
    files: ['src/marts/**/*.ts', 'src/stream/**/*.ts', 'src/batch/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'process', message: 'Pure core: pass configuration in.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Pure core: pass a clock in.' }],
    },
  },
);
