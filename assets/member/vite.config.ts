import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'

// The mini-program build carries a placeholder for the API address: the server writes this
// installation's public URL over it when it hands out the package (src/system/miniprogram.rs).
// The H5 build is served by the same server, so it calls the API on its own origin.
const apiBase = process.env.UNI_PLATFORM === 'mp-weixin' ? '@@GONGHUI_API_BASE@@' : ''

export default defineConfig({
  plugins: [uni()],
  define: { __API_BASE__: JSON.stringify(apiBase) },
  build: { sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': 'http://127.0.0.1:18080', '/files': 'http://127.0.0.1:18080' } },
})
