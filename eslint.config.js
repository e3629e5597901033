// Style: neostandard (standard's rules for JS and TypeScript). Generated codecs and build
// output are not linted.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', 'src/proto/p2pd.ts', 'coverage/**']
  }),
  {
    rules: {
      // `void promise` marks a deliberate fire-and-forget (its errors handled inside)
      'no-void': ['error', { allowAsStatement: true }],
      // `while (!done) await …`: callbacks change the condition while the loop awaits
      'no-unmodified-loop-condition': 'off',
      // `for await (const first of source) { …; break }` takes the first item on purpose
      'no-unreachable-loop': ['error', { ignore: ['ForOfStatement'] }],
      'no-empty': ['error', { allowEmptyCatch: true }]
    }
  },
  {
    files: ['**/*.ts'],
    rules: {
      // `for await (const _ of socket) {}` drains; `_name` marks an unused binding
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }]
    }
  }
]
