// Texts that travel with lazily loaded pages (spot sessions): merged into vue-i18n for a language
// when a page needs them. Chinese rides in the page's own chunk (no extra request on a weak line);
// English is fetched when the app is in English.
import { i18n } from '@/locales'
import type { Language } from '@/api/types'

type Messages = Record<string, unknown>

/**
 * Merge the part's messages for `lang` unless they are there (`probe` is one of its keys; loading
 * English replaces that language's messages, so the check is on the messages, not a flag). The
 * Chinese messages are merged before this returns, so a page can render at once.
 */
export function mergePart(probe: string, lang: Language, zh: Messages, loadEn: () => Promise<Messages>): Promise<void> {
  if (i18n.global.te(probe, lang)) return Promise.resolve()
  if (lang !== 'en') {
    i18n.global.mergeLocaleMessage(lang, zh as never)
    return Promise.resolve()
  }
  return loadEn().then((en) => {
    i18n.global.mergeLocaleMessage('en', en as never)
  })
}
