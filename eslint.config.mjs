import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const pureTs = ['@tensorflow/*', '@nestjs/*', 'socket.io', 'socket.io-client', '@prisma/*', 'webgpu'];

export default tseslint.config(
  { ignores: ['**/node_modules', '**/dist', '**/.fedseg', '**/coverage', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // DESIGN.md: apps -> libs; protocol imports no lib; models and aggregation never import each other;
      // aggregation, imaging and protocol stay pure TypeScript.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: [], bannedExternalImports: pureTs },
            {
              sourceTag: 'scope:aggregation',
              onlyDependOnLibsWithTags: ['scope:protocol'],
              bannedExternalImports: pureTs,
            },
            {
              sourceTag: 'scope:imaging',
              onlyDependOnLibsWithTags: ['scope:protocol'],
              bannedExternalImports: pureTs,
            },
            // models loads the optional addon at run time; it imports only the addon's types.
            {
              sourceTag: 'scope:models',
              onlyDependOnLibsWithTags: ['scope:protocol', 'scope:imaging', 'scope:native'],
            },
          ],
        },
      ],
    },
  },
  {
    // Issue 19: Prisma's client, types and error codes stay inside repositories and database/.
    files: ['apps/coordinator/src/**/*.ts'],
    ignores: ['apps/coordinator/src/**/*.repository.ts', 'apps/coordinator/src/database/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@prisma/client', message: 'Query through a repository (*.repository.ts).' }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Literal[value=/^P[0-9]{4}$/]',
          message: "A Prisma error code: map it to the repository's own error (DuplicateRowError, ...).",
        },
      ],
    },
  },
);
