// The officer's join page texts (`spot.join.*`), loaded with that page.
import type { Language } from '@/api/types'
import zh from './join.zh-CN'
import { mergePart } from './merge'

export function loadJoinMessages(lang: Language): Promise<void> {
  return mergePart('spot.join.title', lang, zh, () => import('./join.en').then((m) => m.default))
}
