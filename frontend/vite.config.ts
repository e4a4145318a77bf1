/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import legacy from '@vitejs/plugin-legacy'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import pxtorem from 'postcss-pxtorem'
import type { Plugin } from 'vite'

/**
 * With only legacy chunks there is no modern output to emit the stylesheet, and plugin-legacy
 * marks the legacy output "skip asset emit": let that output emit its assets (the one CSS file,
 * linked from index.html) so that no CSS rides inside the JavaScript.
 */
function emitAssetsFromLegacyOutput(): Plugin {
  return {
    name: 'yingzhi:emit-assets-from-legacy-output',
    apply: 'build',
    generateBundle: {
      order: 'pre',
      handler(options) {
        ;(options as { __vite_skip_asset_emit__?: boolean }).__vite_skip_asset_emit__ = false
      },
    },
  }
}

// Officers open the app inside WeChat/DingTalk WebViews (Chrome 69-class engines and older
// iOS WebKit). The build therefore emits only "legacy" chunks: SystemJS modules (no `import()`
// or `import.meta`) transpiled to ES2018 syntax with the core-js polyfills those engines need.
// `npm run check:legacy` parses every emitted file at ecmaVersion 2018 to keep it that way.
const legacyTargets = ['chrome >= 64', 'safari >= 12', 'ios_saf >= 12']

export default defineConfig({
  base: '/',
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  plugins: [
    vue(),
    Components({
      dts: false,
      resolvers: [VantResolver()],
    }),
    legacy({
      targets: legacyTargets,
      renderModernChunks: false,
      // Only what the code really needs on those engines (usage detection would pull in
      // every newer Set/Map/Iterator method core-js knows of, ~35 kB gzip for nothing).
      polyfills: false,
      modernPolyfills: false,
    }),
    emitAssetsFromLegacyOutput(),
  ],
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'false',
  },
  css: {
    postcss: {
      // Everything (Vant included) in rem, so the font-size setting scales the whole UI from the
      // root font size; 1px hairlines stay in px.
      plugins: [pxtorem({ rootValue: 16, propList: ['*'], minPixelValue: 2 })],
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    cssTarget: ['chrome61', 'safari12'],
    // One stylesheet linked from index.html: legacy (SystemJS) chunks would otherwise carry
    // their CSS inside the JavaScript.
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8000',
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.spec.ts'],
    setupFiles: ['tests/setup.ts'],
    restoreMocks: true,
  },
})
