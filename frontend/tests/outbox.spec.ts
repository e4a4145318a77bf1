import { describe, expect, it } from 'vitest'
import * as outbox from '@/offline/outbox'
import type { OutboxEntry, SendResult } from '@/offline/outbox'

function entry(itemId: number, seq: number, response: OutboxEntry['response'] = 'a', attemptId = 1): OutboxEntry {
  return { attemptId, itemId, seq, response, queuedAt: 0 }
}

describe('outbox', () => {
  it('keeps one entry per item, replaced only by a higher seq', async () => {
    expect(await outbox.put(entry(10, 100, 'a'))).toBe(true)
    expect(await outbox.put(entry(10, 200, 'b'))).toBe(true)
    expect(await outbox.put(entry(10, 150, 'stale'))).toBe(false)
    expect(await outbox.put(entry(10, 200, 'same seq'))).toBe(false)
    const stored = await outbox.get(1, 10)
    expect(stored && stored.response).toBe('b')
    expect(stored && stored.seq).toBe(200)
    expect(await outbox.list(1)).toHaveLength(1)
  })

  it('stores every response shape as given', async () => {
    await outbox.put(entry(1, 1, ['x', 'y']))
    await outbox.put(entry(2, 2, true))
    await outbox.put(entry(3, 3, ['第一空', '']))
    await outbox.put(entry(4, 4, null))
    const byItem = Object.fromEntries((await outbox.list(1)).map((e) => [e.itemId, e.response]))
    expect(byItem).toEqual({ 1: ['x', 'y'], 2: true, 3: ['第一空', ''], 4: null })
  })

  it('survives a reload (a new connection to the same database)', async () => {
    await outbox.put(entry(7, 70, 'kept'))
    outbox.resetForTests() // as after a page reload: the database stays
    const stored = await outbox.get(1, 7)
    expect(stored && stored.response).toBe('kept')
  })

  it('lists oldest first, per attempt or all', async () => {
    await outbox.put(entry(1, 300))
    await outbox.put(entry(2, 100))
    await outbox.put(entry(3, 200, 'a', 2))
    expect((await outbox.list(1)).map((e) => e.seq)).toEqual([100, 300])
    expect((await outbox.list()).map((e) => e.seq)).toEqual([100, 200, 300])
  })

  it('an ack clears the entry it acknowledges, not a newer one', async () => {
    await outbox.put(entry(5, 100, 'old'))
    await outbox.put(entry(5, 101, 'new')) // typed again while the first save was in flight
    expect(await outbox.ack(1, 5, 100)).toBe(false)
    expect((await outbox.get(1, 5))!.response).toBe('new')
    expect(await outbox.ack(1, 5, 101)).toBe(true)
    expect(await outbox.get(1, 5)).toBeUndefined()
  })

  it('flushes oldest first and clears what the server acknowledged', async () => {
    await outbox.put(entry(1, 30))
    await outbox.put(entry(2, 10))
    await outbox.put(entry(3, 20))
    const order: number[] = []
    const report = await outbox.flush(async (e) => {
      order.push(e.seq)
      return 'ack'
    }, 1)
    expect(order).toEqual([10, 20, 30])
    expect(report).toMatchObject({ sent: 3, acked: 3, stopped: false, remaining: 0 })
    expect(await outbox.list()).toEqual([])
  })

  it('a failed flush keeps the failed entry and everything after it', async () => {
    await outbox.put(entry(1, 10))
    await outbox.put(entry(2, 20))
    await outbox.put(entry(3, 30))
    const results: SendResult[] = ['ack', 'retry', 'ack']
    const sent: number[] = []
    const report = await outbox.flush(async (e) => {
      sent.push(e.seq)
      return results[sent.length - 1]!
    })
    expect(sent).toEqual([10, 20]) // stopped at the failure
    expect(report).toMatchObject({ acked: 1, stopped: true, remaining: 2 })
    expect((await outbox.list()).map((e) => e.seq)).toEqual([20, 30])
  })

  it('a throwing sender counts as a failure, not a loss', async () => {
    await outbox.put(entry(1, 10))
    const report = await outbox.flush(async () => {
      throw new Error('boom')
    })
    expect(report.stopped).toBe(true)
    expect(await outbox.list()).toHaveLength(1)
  })

  it('drop removes an entry that can never be delivered and goes on', async () => {
    await outbox.put(entry(1, 10))
    await outbox.put(entry(2, 20))
    const report = await outbox.flush(async (e) => (e.seq === 10 ? 'drop' : 'ack'))
    expect(report).toMatchObject({ acked: 1, dropped: 1, remaining: 0 })
  })

  it('a flush does not remove an answer given while it was sending', async () => {
    await outbox.put(entry(1, 10, 'first'))
    await outbox.flush(async () => {
      await outbox.put(entry(1, 11, 'second'))
      return 'ack'
    })
    expect((await outbox.get(1, 1))!.response).toBe('second')
  })

  it('clears one attempt only', async () => {
    await outbox.put(entry(1, 10, 'a', 1))
    await outbox.put(entry(1, 11, 'b', 2))
    expect(await outbox.clear(1)).toBe(1)
    expect((await outbox.list()).map((e) => e.attemptId)).toEqual([2])
  })
})
