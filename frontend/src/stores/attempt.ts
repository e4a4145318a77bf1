// The attempt being taken: its items, the officer's answers, the save state of each answer,
// the server clock offset for the countdown, and how the attempt ends (submit, time up, closed).
//
// Every answer change goes to the IndexedDB outbox first and is sent at once; it leaves the
// outbox only when the server acknowledged it. Reload, another device, a lost connection or an
// expired token therefore never lose an answer the officer gave.
import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import { ApiError } from '@/api/http'
import { quizApi } from '@/api/endpoints'
import type { AttemptOut, AttemptResult, ItemOut, ResponseValue } from '@/api/types'
import * as outbox from '@/offline/outbox'
import type { FlushReport, OutboxEntry, SendResult } from '@/offline/outbox'
import { clockOffset, parseServerTime, remainingMs, serverNow } from '@/utils/time'
import { isAnswered } from '@/utils/answers'

export type ItemSaveState = 'saved' | 'pending' | 'unanswered'

/** How often to ask whether the server finished the attempt (after time ran out). */
export const FINISH_POLL_MS = 3000
const RETRY_MIN_MS = 3000
const RETRY_MAX_MS = 30000

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const useAttemptStore = defineStore('attempt', () => {
  const attempt = ref<AttemptOut | null>(null)
  /** The answers as the officer sees them: the server's, overlaid with newer unsent ones. */
  const responses = ref<Record<number, ResponseValue>>({})
  /** Item id → seq of the newest answer not yet acknowledged by the server. */
  const pending = ref<Record<number, number>>({})
  /** Server time − local time, re-measured on every attempt fetch. */
  const offset = ref(0)
  /** No more editing: finished, refused as closed by the server, or time ran out. */
  const closed = ref(false)
  const timeUp = ref(false)
  /** Waiting for the server to finish the attempt (time is up, or it said attempt_closed). */
  const finishing = ref(false)
  const result = ref<AttemptResult | null>(null)
  /** The last save failure's code (network_error, server_busy, ...), cleared by a success. */
  const lastSaveError = ref<string | null>(null)

  // Not reactive: bookkeeping for seq numbers and timers.
  let knownSeq: Record<number, number> = {}
  /** Item id → highest seq the server accepted from this page (to spot a stale GET). */
  let ackedSeq: Record<number, number> = {}
  let lastSeq = 0
  let generation = 0
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let retryDelay = RETRY_MIN_MS
  const debounceTimers: Record<number, ReturnType<typeof setTimeout>> = {}
  let flushRun: Promise<FlushReport> | null = null
  let flushAgain = false

  const items = computed<ItemOut[]>(() => (attempt.value ? attempt.value.items : []))
  const deadlineMs = computed(() => (attempt.value ? parseServerTime(attempt.value.deadline) : 0))
  const pendingCount = computed(() => Object.keys(pending.value).length)
  const saveState = computed<'saved' | 'pending'>(() => (pendingCount.value > 0 ? 'pending' : 'saved'))
  const itemStates = computed<Record<number, ItemSaveState>>(() => {
    const out: Record<number, ItemSaveState> = {}
    for (const item of items.value) {
      if (pending.value[item.id] !== undefined) out[item.id] = 'pending'
      else out[item.id] = isAnswered(responses.value[item.id]) ? 'saved' : 'unanswered'
    }
    return out
  })
  const unansweredPositions = computed(() =>
    items.value.filter((i) => !isAnswered(responses.value[i.id])).map((i) => i.position),
  )
  const isFinished = computed(() => !!attempt.value && attempt.value.status === 'finished')

  function reset(): void {
    generation += 1
    attempt.value = null
    responses.value = {}
    pending.value = {}
    offset.value = 0
    closed.value = false
    timeUp.value = false
    finishing.value = false
    result.value = null
    lastSaveError.value = null
    knownSeq = {}
    ackedSeq = {}
    if (retryTimer) clearTimeout(retryTimer)
    retryTimer = null
    retryDelay = RETRY_MIN_MS
    Object.keys(debounceTimers).forEach((k) => clearTimeout(debounceTimers[+k]))
  }

  /** Take the server's view of the attempt; answers still pending locally stay on top. */
  function apply(a: AttemptOut, receivedAt: number = Date.now()): void {
    if (!attempt.value || attempt.value.id !== a.id) reset()
    attempt.value = a
    offset.value = clockOffset(a.server_time, receivedAt)
    const next = { ...responses.value }
    for (const item of a.items) {
      const serverSeq = item.seq === null ? 0 : item.seq
      knownSeq[item.id] = Math.max(knownSeq[item.id] || 0, serverSeq)
      const mine = pending.value[item.id]
      const acked = ackedSeq[item.id]
      if (a.status !== 'finished') {
        // Not yet acknowledged, or acknowledged after this copy was read: ours is newer.
        if (mine !== undefined && mine > serverSeq) continue
        if (acked !== undefined && acked > serverSeq) continue
      }
      next[item.id] = item.response
    }
    responses.value = next
    if (a.status === 'finished') {
      closed.value = true
      if (a.result) result.value = a.result
    }
  }

  /** Put unsent answers of this attempt from the outbox over the server's copy when newer. */
  async function mergeOutbox(): Promise<void> {
    const a = attempt.value
    if (!a) return
    if (a.status === 'finished') {
      await outbox.clear(a.id)
      pending.value = {}
      return
    }
    const byId: Record<number, ItemOut> = {}
    a.items.forEach((i) => (byId[i.id] = i))
    const nextResponses = { ...responses.value }
    const nextPending = { ...pending.value }
    for (const entry of await outbox.list(a.id)) {
      const item = byId[entry.itemId]
      const serverSeq = item && item.seq !== null ? item.seq : 0
      if (!item || entry.seq <= serverSeq) {
        // The server already holds this answer or a newer one.
        await outbox.ack(entry.attemptId, entry.itemId, entry.seq)
        continue
      }
      const queued = nextPending[entry.itemId]
      if (queued === undefined || queued <= entry.seq) {
        nextResponses[entry.itemId] = entry.response
        nextPending[entry.itemId] = entry.seq
      }
      knownSeq[entry.itemId] = Math.max(knownSeq[entry.itemId] || 0, entry.seq)
    }
    responses.value = nextResponses
    pending.value = nextPending
  }

  async function afterFetch(a: AttemptOut, receivedAt: number): Promise<AttemptOut> {
    apply(a, receivedAt)
    await mergeOutbox()
    if (!closed.value) void flush()
    return a
  }

  /** Start the quiz, or resume the attempt in progress (the server decides). */
  async function start(quizId: number): Promise<AttemptOut> {
    const a = await quizApi.start(quizId)
    return afterFetch(a, Date.now())
  }

  /** Load (or re-sync) an attempt: server copy, then unsent local answers on top, then flush. */
  async function load(attemptId: number): Promise<AttemptOut> {
    // Answers being sent right now should be in the copy we fetch.
    if (flushRun) await flushRun
    const a = await quizApi.attempt(attemptId)
    return afterFetch(a, Date.now())
  }

  /** Re-sync the current attempt (back from background, bfcache restore); errors are quiet. */
  async function resync(): Promise<void> {
    if (!attempt.value) return
    try {
      await load(attempt.value.id)
    } catch {
      // offline: the countdown keeps using the last offset; the outbox keeps the answers
    }
  }

  /** A strictly increasing seq: server-clock based, above anything seen for this item. */
  function nextSeq(itemId: number): number {
    const base = Math.floor(serverNow(offset.value)) * 1000
    const seq = Math.max(base, lastSeq + 1, (knownSeq[itemId] || 0) + 1)
    lastSeq = seq
    knownSeq[itemId] = seq
    return seq
  }

  function settle(entry: OutboxEntry): void {
    if (!attempt.value || attempt.value.id !== entry.attemptId) return
    const mine = pending.value[entry.itemId]
    if (mine !== undefined && mine <= entry.seq) {
      const next = { ...pending.value }
      delete next[entry.itemId]
      pending.value = next
    }
  }

  function scheduleRetry(): void {
    if (retryTimer || !attempt.value) return
    const gen = generation
    retryTimer = setTimeout(() => {
      retryTimer = null
      if (gen !== generation) return
      void flush()
    }, retryDelay)
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS)
  }

  let resyncTimer: ReturnType<typeof setTimeout> | null = null
  function scheduleResync(): void {
    if (resyncTimer) return
    resyncTimer = setTimeout(() => {
      resyncTimer = null
      void resync()
    }, 500)
  }

  /** Send one queued answer. The outbox flush removes it on 'ack'/'drop', keeps it on 'retry'. */
  async function send(entry: OutboxEntry): Promise<SendResult> {
    try {
      const out = await quizApi.save(entry.attemptId, entry.itemId, entry.response, entry.seq)
      if (out.accepted && attempt.value && attempt.value.id === entry.attemptId) {
        ackedSeq[entry.itemId] = Math.max(ackedSeq[entry.itemId] || 0, entry.seq)
      }
      await outbox.ack(entry.attemptId, entry.itemId, entry.seq)
      settle(entry)
      lastSaveError.value = null
      retryDelay = RETRY_MIN_MS
      // Not accepted: the server holds a newer answer (another device); show that one.
      if (!out.accepted && out.seq > entry.seq) scheduleResync()
      return 'ack'
    } catch (err) {
      if (!(err instanceof ApiError)) {
        lastSaveError.value = 'network_error'
        scheduleRetry()
        return 'retry'
      }
      if (err.code === 'attempt_closed') {
        if (attempt.value && attempt.value.id === entry.attemptId) void handleClosed()
        else await outbox.clear(entry.attemptId)
        return 'retry'
      }
      if (err.isTransient || err.status === 401 || err.status === 403) {
        lastSaveError.value = err.code
        scheduleRetry()
        return 'retry'
      }
      // 404 / 422: this answer can never be stored; do not retry it forever.
      await outbox.ack(entry.attemptId, entry.itemId, entry.seq)
      settle(entry)
      lastSaveError.value = err.code
      return 'drop'
    }
  }

  /**
   * Send every queued answer (of the current attempt, or of all attempts with `all`), oldest
   * first; a flush asked for while one runs makes that one go round again. Never throws.
   */
  function flush(all = false): Promise<FlushReport> {
    if (flushRun) {
      flushAgain = true
      return flushRun
    }
    const scope = all || !attempt.value ? undefined : attempt.value.id
    flushRun = (async () => {
      let report: FlushReport
      do {
        flushAgain = false
        report = await outbox.flush(send, scope)
      } while (flushAgain && !report.stopped)
      return report
    })()
      .catch(() => ({ sent: 0, acked: 0, dropped: 0, stopped: true, remaining: -1 }))
      .then((report) => {
        flushRun = null
        return report
      })
    return flushRun
  }

  /**
   * The officer changed an answer: show it, queue it durably, send it. Text typing may pass
   * `debounceMs` so a word is one save, not one per keystroke (it is queued at once all the same).
   */
  async function answer(itemId: number, response: ResponseValue, debounceMs = 0): Promise<void> {
    const a = attempt.value
    if (!a || closed.value) return
    const seq = nextSeq(itemId)
    responses.value = { ...responses.value, [itemId]: response }
    pending.value = { ...pending.value, [itemId]: seq }
    const entry: OutboxEntry = { attemptId: a.id, itemId, response, seq, queuedAt: Date.now() }
    await outbox.put(entry)
    if (debounceTimers[itemId]) clearTimeout(debounceTimers[itemId])
    if (debounceMs > 0) {
      debounceTimers[itemId] = setTimeout(() => {
        delete debounceTimers[itemId]
        void send(entry)
      }, debounceMs)
    } else {
      await send(entry)
    }
  }

  /** Ask the server until it has finished the attempt (it does so after deadline + grace). */
  async function waitForFinish(pollMs: number = FINISH_POLL_MS): Promise<AttemptResult | null> {
    const a = attempt.value
    if (!a) return null
    const gen = generation
    finishing.value = true
    try {
      for (;;) {
        try {
          const fresh = await quizApi.attempt(a.id)
          if (gen !== generation) return null
          apply(fresh, Date.now())
          if (fresh.status === 'finished') {
            await mergeOutbox()
            return result.value
          }
        } catch (err) {
          if (gen !== generation) return null
          if (err instanceof ApiError && !err.isTransient && err.status !== 401) throw err
        }
        await sleep(pollMs)
        if (gen !== generation) return null
      }
    } finally {
      if (gen === generation) finishing.value = false
    }
  }

  let closedHandling: Promise<AttemptResult | null> | null = null

  /** 409 attempt_closed: the server finished (or will finish) the attempt; stop editing. */
  function handleClosed(): Promise<AttemptResult | null> {
    if (!closedHandling) {
      closed.value = true
      const a = attempt.value
      closedHandling = (async () => {
        if (a) await outbox.clear(a.id)
        pending.value = {}
        return waitForFinish()
      })().then(
        (r) => {
          closedHandling = null
          return r
        },
        (err: unknown) => {
          closedHandling = null
          throw err
        },
      )
    }
    return closedHandling
  }

  /** The countdown reached 0: send what is queued (the grace allows it), then await the server. */
  async function onTimeUp(pollMs: number = FINISH_POLL_MS): Promise<AttemptResult | null> {
    if (!attempt.value || isFinished.value) return result.value
    if (timeUp.value) return null
    timeUp.value = true
    closed.value = true
    await flush()
    return waitForFinish(pollMs)
  }

  /** Submit: flush first; refuse while answers are still unsaved (offline); then finish. */
  async function submit(): Promise<AttemptResult> {
    const a = attempt.value
    if (!a) throw new ApiError(0, 'no_attempt', 'No attempt loaded')
    await flush()
    if (pendingCount.value > 0) {
      throw new ApiError(0, 'unsaved_answers', pendingCount.value + ' answers are not saved yet')
    }
    const r = await quizApi.submit(a.id)
    result.value = r
    closed.value = true
    attempt.value = { ...a, status: 'finished', result: r }
    await outbox.clear(a.id)
    return r
  }

  function remaining(now: number = Date.now()): number {
    return attempt.value ? remainingMs(deadlineMs.value, offset.value, now) : 0
  }

  return {
    attempt,
    responses,
    pending,
    offset,
    closed,
    timeUp,
    finishing,
    result,
    lastSaveError,
    items,
    deadlineMs,
    pendingCount,
    saveState,
    itemStates,
    unansweredPositions,
    isFinished,
    reset,
    apply,
    start,
    load,
    resync,
    answer,
    flush,
    send,
    nextSeq,
    handleClosed,
    waitForFinish,
    onTimeUp,
    submit,
    remaining,
  }
})
