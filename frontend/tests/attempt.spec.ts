import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useAttemptStore } from '@/stores/attempt'
import { useAuthStore } from '@/stores/auth'
import * as outbox from '@/offline/outbox'
import type { AttemptOut, AttemptResult, ItemOut, ResponseValue } from '@/api/types'
import { apiError, FakeServer, json, settle } from './fakeServer'

const T0 = Date.UTC(2021, 4, 1, 8, 0, 0)
const iso = (ms: number) => new Date(ms).toISOString()

function items(): ItemOut[] {
  return [
    { id: 11, position: 1, type: 'single', stem: 'S?', options: [{ id: 'a1', text: 'A' }, { id: 'b1', text: 'B' }], blanks: 0, points: 4, response: null, seq: null },
    { id: 12, position: 2, type: 'multiple', stem: 'M?', options: [{ id: 'a2', text: 'A' }, { id: 'b2', text: 'B' }], blanks: 0, points: 6, response: null, seq: null },
    { id: 13, position: 3, type: 'true_false', stem: 'T?', options: [], blanks: 0, points: 3, response: null, seq: null },
    { id: 14, position: 4, type: 'fill_blank', stem: '____ and ____', options: [], blanks: 2, points: 5, response: null, seq: null },
  ]
}

/** A fake attempt endpoint honouring the contract: highest seq wins, 409 once closed. */
function attemptServer(opts: { serverSkewMs?: number } = {}) {
  const server = new FakeServer()
  const state = {
    status: 'in_progress' as 'in_progress' | 'finished',
    finishReason: null as string | null,
    closedForSaves: false,
    saved: {} as Record<number, { response: ResponseValue; seq: number }>,
    // The server's clock runs this far ahead of the test's Date.now().
    skew: opts.serverSkewMs || 0,
    deadline: T0 + 30 * 60_000,
    finishAfterPolls: 0,
  }
  const now = () => Date.now() + state.skew
  const result = (): AttemptResult => ({
    attempt_id: 7, quiz_id: 1, status: 'finished', finish_reason: state.finishReason as AttemptResult['finish_reason'],
    finished_at: iso(now()), score: 78, max_score: 100, passed: true, review_policy: 'full',
    shows_correctness: true, shows_answers: true, items: [],
  })
  const view = (): AttemptOut => ({
    id: 7, quiz_id: 1, quiz_title: 'Q', number: 1, status: state.status, started_at: iso(T0), deadline: iso(state.deadline),
    server_time: iso(now()), save_grace_seconds: 20,
    items: items().map((i) => ({ ...i, response: state.saved[i.id] ? state.saved[i.id]!.response : null, seq: state.saved[i.id] ? state.saved[i.id]!.seq : null })),
    result: state.status === 'finished' ? result() : null,
  })
  server.on('POST', /^\/quizzes\/1\/attempts$/, () => json(view(), 201))
  server.on('GET', /^\/attempts\/7$/, () => {
    if (state.status === 'in_progress' && state.finishAfterPolls > 0) {
      state.finishAfterPolls -= 1
      if (state.finishAfterPolls === 0) {
        state.status = 'finished'
        state.finishReason = 'timeout'
      }
    }
    return json(view())
  })
  server.on('PUT', /^\/attempts\/7\/items\/\d+$/, (c) => {
    if (state.closedForSaves || state.status === 'finished') return apiError(409, 'attempt_closed')
    const itemId = Number(c.path.split('/').pop())
    const body = c.body as { response: ResponseValue; seq: number }
    const current = state.saved[itemId]
    if (!current || current.seq < body.seq) state.saved[itemId] = { response: body.response, seq: body.seq }
    const stored = state.saved[itemId]!
    return json({ item_id: itemId, seq: stored.seq, saved_at: iso(now()), accepted: stored.seq === body.seq, server_time: iso(now()) })
  })
  server.on('POST', /^\/attempts\/7\/submit$/, () => {
    state.status = 'finished'
    state.finishReason = 'submitted'
    return json(result())
  })
  server.install()
  return { server, state }
}

function loggedIn(): void {
  localStorage.setItem('yz.access_token', 'access')
  localStorage.setItem('yz.refresh_token', 'refresh')
  useAuthStore()
}

describe('attempt store', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0 + 60_000)
    setActivePinia(createPinia())
    loggedIn()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('measures the server clock offset on every fetch and counts down by it', async () => {
    const { state } = attemptServer({ serverSkewMs: 120_000 }) // the phone is 2 min slow
    const store = useAttemptStore()
    await store.start(1)
    expect(store.offset).toBe(120_000)
    // Server now = T0 + 3 min → 27 min left, though the phone thinks 29.
    expect(store.remaining()).toBe(27 * 60_000)
    state.skew = -30_000 // the phone's clock was corrected meanwhile
    await store.load(7)
    expect(store.offset).toBe(-30_000)
    expect(store.remaining()).toBe(29.5 * 60_000)
  })

  it('sends every answer at once with a strictly increasing seq, and clears it on ack', async () => {
    const { server, state } = attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    await store.answer(11, 'a1')
    await store.answer(11, 'b1')
    await store.answer(12, ['a2'])
    await store.answer(13, false)
    await store.answer(14, ['x', 'y'])
    const puts = server.callsTo('PUT', /items/)
    expect(puts.map((c) => c.path)).toEqual([
      '/attempts/7/items/11', '/attempts/7/items/11', '/attempts/7/items/12', '/attempts/7/items/13', '/attempts/7/items/14',
    ])
    const seqs = puts.map((c) => (c.body as { seq: number }).seq)
    for (let i = 1; i < seqs.length; i += 1) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!)
    expect(seqs[seqs.length - 1]!).toBeLessThanOrEqual(2 ** 53)
    expect(state.saved[11]!.response).toBe('b1')
    expect(state.saved[13]!.response).toBe(false)
    expect(await outbox.list(7)).toEqual([])
    expect(store.saveState).toBe('saved')
    expect(store.itemStates).toEqual({ 11: 'saved', 12: 'saved', 13: 'saved', 14: 'saved' })
  })

  it('keeps an unsent answer pending in the outbox and sends it when back online', async () => {
    const { server, state } = attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    server.offline = true
    await store.answer(11, 'a1')
    expect(store.itemStates[11]).toBe('pending')
    expect(store.saveState).toBe('pending')
    expect((await outbox.list(7)).map((e) => e.response)).toEqual(['a1'])
    server.offline = false
    const report = await store.flush()
    expect(report.acked).toBe(1)
    expect(state.saved[11]!.response).toBe('a1')
    expect(store.itemStates[11]).toBe('saved')
    expect(await outbox.list(7)).toEqual([])
  })

  it('a reload re-applies pending answers over the server copy when newer, and re-sends them', async () => {
    const { server, state } = attemptServer()
    let store = useAttemptStore()
    await store.start(1)
    await store.answer(11, 'a1') // saved
    server.offline = true
    await store.answer(11, 'b1') // newer, not saved
    await store.answer(13, true) // not saved
    expect(state.saved[11]!.response).toBe('a1')

    // Reload: a new page (new pinia), the same IndexedDB.
    outbox.resetForTests()
    setActivePinia(createPinia())
    loggedIn()
    server.offline = false
    store = useAttemptStore()
    await store.load(7)
    expect(store.responses[11]).toBe('b1') // the outbox's, over the server's 'a1'
    expect(store.responses[13]).toBe(true)
    await settle()
    await store.flush()
    expect(state.saved[11]!.response).toBe('b1')
    expect(state.saved[13]!.response).toBe(true)
    expect(await outbox.list(7)).toEqual([])
    expect(store.saveState).toBe('saved')
  })

  it('an outbox entry older than the server copy (another device) is dropped, not applied', async () => {
    const { state } = attemptServer()
    await outbox.put({ attemptId: 7, itemId: 11, response: 'a1', seq: 100, queuedAt: 0 })
    state.saved[11] = { response: 'b1', seq: 5_000 }
    const store = useAttemptStore()
    await store.load(7)
    expect(store.responses[11]).toBe('b1')
    expect(store.itemStates[11]).toBe('saved')
    expect(await outbox.list(7)).toEqual([])
  })

  it('a new answer outbids a higher seq saved by another device', async () => {
    const { state } = attemptServer()
    state.saved[11] = { response: 'a1', seq: 9_000_000_000_000_000 } // a device with a clock far ahead
    const store = useAttemptStore()
    await store.load(7)
    await store.answer(11, 'b1')
    expect(state.saved[11]!.response).toBe('b1')
  })

  it('an accepted:false ack clears the entry (the server holds a newer answer)', async () => {
    const { server, state } = attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    server.on('PUT', /^\/attempts\/7\/items\/11$/, (c) => {
      state.saved[11] = { response: 'b1', seq: (c.body as { seq: number }).seq + 10 }
      return json({ item_id: 11, seq: state.saved[11].seq, saved_at: iso(Date.now()), accepted: false, server_time: iso(Date.now()) })
    })
    await store.answer(11, 'a1')
    expect(await outbox.list(7)).toEqual([])
    expect(store.itemStates[11]).not.toBe('pending')
  })

  it('409 attempt_closed stops editing, fetches the attempt and shows the result', async () => {
    const { state } = attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    state.closedForSaves = true
    state.finishAfterPolls = 1 // the next GET finds it finished
    await store.answer(11, 'a1')
    await settle()
    await vi.waitFor(() => expect(store.isFinished).toBe(true))
    expect(store.closed).toBe(true)
    expect(store.result && store.result.finish_reason).toBe('timeout')
    expect(await outbox.list(7)).toEqual([])
    // No more edits are taken.
    await store.answer(12, ['a2'])
    expect(store.responses[12]).toBeNull()
  })

  it('when time is up it flushes, then asks the server until it finished the attempt', async () => {
    const { server, state } = attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    server.offline = true
    await store.answer(11, 'a1')
    server.offline = false
    state.finishAfterPolls = 3 // still in its grace period for two more polls
    const result = await store.onTimeUp(5)
    expect(state.saved[11]!.response).toBe('a1') // flushed before asking
    expect(server.callsTo('GET', /^\/attempts\/7$/)).toHaveLength(3)
    expect(result && result.finish_reason).toBe('timeout')
    expect(store.isFinished).toBe(true)
    expect(store.timeUp).toBe(true)
  })

  it('submit flushes the outbox first, then submits', async () => {
    const { server, state } = attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    server.offline = true
    await store.answer(13, true)
    server.offline = false
    const result = await store.submit()
    const order = server.calls.filter((c) => c.method !== 'GET').map((c) => c.method + ' ' + c.path)
    expect(order.slice(-2)).toEqual(['PUT /attempts/7/items/13', 'POST /attempts/7/submit'])
    expect(state.saved[13]!.response).toBe(true)
    expect(result.score).toBe(78)
    expect(store.isFinished).toBe(true)
    expect(await outbox.list(7)).toEqual([])
  })

  it('refuses to submit while answers cannot be uploaded', async () => {
    const { server } = attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    server.offline = true
    await store.answer(13, true)
    await expect(store.submit()).rejects.toMatchObject({ code: 'unsaved_answers' })
    expect(server.callsTo('POST', /submit$/)).toHaveLength(0)
    expect(await outbox.list(7)).toHaveLength(1)
  })

  it('lists unanswered positions (blank texts count as unanswered)', async () => {
    attemptServer()
    const store = useAttemptStore()
    await store.start(1)
    await store.answer(12, [])
    await store.answer(14, ['  ', ''])
    await store.answer(13, false)
    expect(store.unansweredPositions).toEqual([1, 2, 4])
  })

  it('an expired access token in the middle of a quiz is refreshed, the answer still saved', async () => {
    const { server, state } = attemptServer()
    let valid = 'access'
    server.on('POST', /^\/auth\/refresh$/, () => {
      valid = 'access-2'
      return json({ access_token: 'access-2', refresh_token: 'refresh-2', token_type: 'bearer', expires_in: 900, user: null })
    })
    const store = useAttemptStore()
    await store.start(1)
    const put = /^\/attempts\/7\/items\/\d+$/
    server.on('PUT', put, (c) => {
      if (c.authorization !== 'Bearer ' + valid) return apiError(401, 'invalid_token')
      const body = c.body as { response: ResponseValue; seq: number }
      state.saved[11] = { response: body.response, seq: body.seq }
      return json({ item_id: 11, seq: body.seq, saved_at: iso(Date.now()), accepted: true, server_time: iso(Date.now()) })
    })
    valid = 'expired'
    server.on('POST', /^\/auth\/refresh$/, () => {
      valid = 'access-2'
      return json({ access_token: 'access-2', refresh_token: 'refresh-2', token_type: 'bearer', expires_in: 900, user: null })
    })
    await store.answer(11, 'b1')
    expect(state.saved[11]!.response).toBe('b1')
    expect(store.saveState).toBe('saved')
    expect(server.callsTo('POST', /refresh$/)).toHaveLength(1)
  })
})
