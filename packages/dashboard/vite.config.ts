import { defineConfig } from 'vite';

// Built once into dist/ (committed) and served by the server under /dashboard/ with a strict CSP: no inline scripts
// or styles, no external assets, so the module preload polyfill (an inline snippet in some setups) stays out.
export default defineConfig({
  base: '/dashboard/',
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', modulePreload: { polyfill: false }, sourcemap: false, chunkSizeWarningLimit: 1000,
    rolldownOptions: {
      // react-query's "use client" markers mean nothing in a client-only bundle
      onwarn(warning, warn) { if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning); },
    },
  },
  oxc: { jsx: { runtime: 'automatic' } },
});
