import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; the build is checked separately.
    alias: {
      // Before '@sitehub/protocol', which would otherwise take it as a path prefix.
      '@sitehub/protocol/iot': src('./protocol/src/iot/index.ts'),
      '@sitehub/protocol': src('./protocol/src/index.ts'),
      '@sitehub/hub/engine.io': src('./hub/src/engine/engine-io.ts'),
      '@sitehub/hub/socket.io': src('./hub/src/realtime/index.ts'),
      '@sitehub/hub': src('./hub/src/index.ts'),
      '@sitehub/device-client': src('./device-client/src/index.ts'),
      '@sitehub/bridge': src('./bridge/src/index.ts'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
