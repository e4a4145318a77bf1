// Practice sessions: start one (by area, weak areas or the wrong-answer book) and keep it for
// the session screen, so it opens without a second request.
import { ref } from 'vue'
import { defineStore } from 'pinia'
import { practiceApi } from '@/api/endpoints'
import type { PracticeMode, PracticeSession } from '@/api/types'

export const usePracticeStore = defineStore('practice', () => {
  const session = ref<PracticeSession | null>(null)
  /** How the last session was asked for, for "another round". */
  const lastRequest = ref<{ mode: PracticeMode; knowledgeAreaId: number | null } | null>(null)

  async function start(mode: PracticeMode, knowledgeAreaId: number | null = null, count = 10): Promise<PracticeSession> {
    session.value = await practiceApi.create(mode, knowledgeAreaId, count)
    lastRequest.value = { mode, knowledgeAreaId }
    return session.value
  }

  /** Another session like the last one (null when it is not known, e.g. after a reload). */
  async function again(): Promise<PracticeSession | null> {
    return lastRequest.value ? start(lastRequest.value.mode, lastRequest.value.knowledgeAreaId) : null
  }

  async function load(id: number): Promise<PracticeSession> {
    if (session.value && session.value.id === id) return session.value
    session.value = await practiceApi.session(id)
    return session.value
  }

  return { session, lastRequest, start, again, load }
})
