import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'

// base must match where the Rust server mounts the UI.
export default defineConfig({
  base: '/admin/',
  plugins: [vue()],
  // `import { … } from 'element-plus'` resolves to src/ep.ts, which imports each component from
  // its own module, so only the components src/element.ts registers are bundled.
  resolve: { alias: [{ find: /^element-plus$/, replacement: fileURLToPath(new URL('./src/ep.ts', import.meta.url)) }] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        // A function, not a module list: a listed package entry would pull the whole library
        // into its chunk, where this keeps only the Element Plus parts src/element.ts imports.
        manualChunks(id: string) {
          if (!id.includes('node_modules')) return undefined
          if (/node_modules\/(@vue|vue|vue-router|pinia)\//.test(id)) return 'vue'
          if (/node_modules\/(element-plus|@element-plus)\//.test(id)) return 'element'
          if (/node_modules\/(echarts|zrender)\//.test(id)) return 'echarts'
          return undefined
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:18080', '/files': 'http://127.0.0.1:18080' } },
})
