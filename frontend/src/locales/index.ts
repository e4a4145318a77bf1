// vue-i18n with zh-CN (default, bundled) and English (loaded on first use), Vant's own texts
// switched along with the app's.
import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import zhCN from './zh-CN'
import type { Language } from '@/api/types'

export type MessageSchema = typeof zhCN

export const SUPPORTED: Language[] = ['zh-CN', 'en']
export const DEFAULT_LANGUAGE: Language = 'zh-CN'

export const i18n = createI18n<[MessageSchema], Language, false>({
  legacy: false,
  locale: DEFAULT_LANGUAGE,
  fallbackLocale: DEFAULT_LANGUAGE,
  messages: { 'zh-CN': zhCN } as Record<Language, MessageSchema>,
  missingWarn: false,
  fallbackWarn: false,
})

const loaded = new Set<Language>(['zh-CN'])

export function normalizeLanguage(value: string | null | undefined): Language | null {
  if (!value) return null
  if (value === 'zh-CN' || value.toLowerCase().startsWith('zh')) return 'zh-CN'
  if (value.toLowerCase().startsWith('en')) return 'en'
  return null
}

async function loadMessages(lang: Language): Promise<void> {
  if (loaded.has(lang)) return
  if (lang === 'en') {
    const mod = await import('./en')
    i18n.global.setLocaleMessage('en', mod.default)
  }
  loaded.add(lang)
}

async function applyVantLocale(lang: Language): Promise<void> {
  if (lang === 'en') {
    const mod = await import('vant/es/locale/lang/en-US')
    Locale.use('en-US', mod.default)
  } else {
    const mod = await import('vant/es/locale/lang/zh-CN')
    Locale.use('zh-CN', mod.default)
  }
}

/** Switch the app (and Vant) to `lang`, loading its messages first. */
export async function setI18nLanguage(lang: Language): Promise<void> {
  await loadMessages(lang)
  await applyVantLocale(lang)
  i18n.global.locale.value = lang
  if (typeof document !== 'undefined') document.documentElement.lang = lang
}
