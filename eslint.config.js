import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.archipel/**', '.build/**', 'coverage/**', 'orchestrator/argo/generated/**', 'frontend-backend/portal/dist/**', 'frontend-backend/portal/src/api/schema.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Library code logs through the Logger port; only the CLI writes to the terminal (via process.stdout).
      'no-console': 'error',
    },
  },
  {
    // Components reach each other only through their index.ts (STYLE.md: no deep imports).
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'tests/**', 'bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(frontend-backend|discovery|discovery-api|catalog|providers|orchestrator|billing|platform/[^/]+)/(?!index\\.ts$)',
              message: 'Import another component (or platform module) only through its index.ts.',
            },
          ],
        },
      ],
    },
  },
);
