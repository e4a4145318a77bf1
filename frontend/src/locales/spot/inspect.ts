// The inspector pages' texts (`inspect.*`), loaded with those pages.
import type { Language } from '@/api/types'
import zh from './inspect.zh-CN'
import { mergePart } from './merge'

export function loadInspectMessages(lang: Language): Promise<void> {
  return mergePart('inspect.title', lang, zh, () => import('./inspect.en').then((m) => m.default))
}
