// Device preferences kept locally: the language and the font size.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import type { Language } from '@/api/types'
import { DEFAULT_LANGUAGE, normalizeLanguage, setI18nLanguage } from '@/locales'
import { readStorage, writeStorage } from '@/utils/storage'

export type FontSize = 'standard' | 'large' | 'xlarge'

export const FONT_SCALES: Record<FontSize, number> = { standard: 1, large: 1.15, xlarge: 1.3 }
export const FONT_SIZES: FontSize[] = ['standard', 'large', 'xlarge']
export const LANGUAGE_KEY = 'yz.language'
export const FONT_KEY = 'yz.font_size'
/** The root font size every rem in the styles is based on (postcss-pxtorem rootValue). */
const ROOT_PX = 16

function storedFont(): FontSize {
  const value = readStorage(FONT_KEY)
  return value === 'large' || value === 'xlarge' ? value : 'standard'
}

export function applyFontSize(size: FontSize): void {
  if (typeof document === 'undefined') return
  const root = document.documentElement
  root.style.fontSize = ROOT_PX * FONT_SCALES[size] + 'px'
  root.setAttribute('data-font-size', size)
}

export const useSettingsStore = defineStore('settings', () => {
  const language = ref<Language>(normalizeLanguage(readStorage(LANGUAGE_KEY)) || DEFAULT_LANGUAGE)
  /** True once the person picked a language on this device (it then wins over the account's). */
  const languageChosen = ref(readStorage(LANGUAGE_KEY) !== null)
  const fontSize = ref<FontSize>(storedFont())

  async function setLanguage(lang: Language, remember = true): Promise<void> {
    await setI18nLanguage(lang)
    language.value = lang
    if (remember) {
      languageChosen.value = true
      writeStorage(LANGUAGE_KEY, lang)
    }
  }

  function setFontSize(size: FontSize): void {
    fontSize.value = size
    writeStorage(FONT_KEY, size)
    applyFontSize(size)
  }

  /** Apply what is stored (at start, and after a bfcache restore). */
  async function init(): Promise<void> {
    const storedLang = normalizeLanguage(readStorage(LANGUAGE_KEY))
    languageChosen.value = storedLang !== null
    fontSize.value = storedFont()
    applyFontSize(fontSize.value)
    await setI18nLanguage(storedLang || language.value)
    if (storedLang) language.value = storedLang
  }

  return { language, languageChosen, fontSize, setLanguage, setFontSize, init }
})
