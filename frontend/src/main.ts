import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Styles of the Vant function APIs (components get theirs from the auto-import resolver).
import 'vant/es/toast/style'
import 'vant/es/dialog/style'
import './styles/main.css'
import App from './App.vue'
import router from './router'
import { i18n } from './locales'
import { applyFontSize, useSettingsStore } from './stores/settings'

async function boot(): Promise<void> {
  const app = createApp(App)
  const pinia = createPinia()
  app.use(pinia)
  app.use(i18n)
  const settings = useSettingsStore(pinia)
  applyFontSize(settings.fontSize)
  try {
    await settings.init()
  } catch {
    // messages of a language that failed to load: stay in Chinese
  }
  app.use(router)
  await router.isReady().catch(() => undefined)
  app.mount('#app')
}

void boot()
