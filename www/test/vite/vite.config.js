// Builds the test app against the package's source: `@kiln-ml/kiln`
// resolves to www/src/index.js, as it would through the package's `exports`
// (test/pack.test.mjs builds the same app from the packed tarball).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative asset URLs, so dist/ can be served from any path.
  base: './',
  resolve: {
    alias: { '@kiln-ml/kiln': fileURLToPath(new URL('../../src/index.js', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Top-level await in the wasm-bindgen glue and the app.
    target: 'es2022',
  },
  logLevel: 'warn',
});
