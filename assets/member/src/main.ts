import { createSSRApp } from 'vue'
import App from './App.vue'

/** uni-app's entry: one app instance per page stack. */
export function createApp() {
  const app = createSSRApp(App)
  return { app }
}
