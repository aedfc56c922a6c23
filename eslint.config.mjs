// ESLint 10 (flat config) with typescript-eslint: the recommended rules that find defects, not
// taste. Layout is Prettier's job (.prettierrc.json); eslint-config-prettier keeps the two apart.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', '.local/', 'coverage/', 'appPackage/build/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore is how this code names what it leaves unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `let x; const f = () => x…; x = …`: a closure that reads a value assigned after it.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // The importer drops references on purpose (`bytes = undefined`) so big Buffers can be collected.
      'no-useless-assignment': 'off',
    },
  },
  {
    // The bench's shim patches Azurite's own CommonJS modules, found by path at run time.
    files: ['bench/benchAzuriteLoki.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The tab's page: the rules of hooks are defects when broken.
    files: ['tab/web/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  prettier,
);
