// The answer outbox: every answer change is written here before it is sent, and stays until
// the server acknowledges it. One entry per (attempt, item); a newer answer (higher seq)
// replaces an older one, never the other way round. Hand-written on the IndexedDB API, with an
// in-memory fallback for WebViews where IndexedDB is missing or refused (private modes).

import type { ResponseValue } from '@/api/types'

export interface OutboxEntry {
  attemptId: number
  itemId: number
  response: ResponseValue
  seq: number
  /** Local time the answer was given (for display and diagnosis only). */
  queuedAt: number
}

/** What a flush did with one entry: acknowledged, dropped (never deliverable), or kept to retry. */
export type SendResult = 'ack' | 'drop' | 'retry'

export interface FlushReport {
  sent: number
  acked: number
  dropped: number
  /** True when a send failed and the flush stopped early; the entries left are kept. */
  stopped: boolean
  remaining: number
}

const DB_NAME = 'yingzhi'
const DB_VERSION = 1
const STORE = 'outbox'

type Key = [number, number]

interface Backend {
  get(key: Key): Promise<OutboxEntry | undefined>
  all(): Promise<OutboxEntry[]>
  /** Atomically: store `entry` unless an entry with a seq ≥ its seq is stored. */
  putIfNewer(entry: OutboxEntry): Promise<boolean>
  /** Atomically: delete the entry when its seq ≤ `seq` (a newer answer stays). */
  deleteUpTo(key: Key, seq: number): Promise<boolean>
  deleteWhere(pred: (e: OutboxEntry) => boolean): Promise<number>
}

function promisify<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

function txDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'))
  })
}

class IdbBackend implements Backend {
  constructor(private readonly db: IDBDatabase) {}

  private store(mode: IDBTransactionMode): { tx: IDBTransaction; store: IDBObjectStore } {
    const tx = this.db.transaction(STORE, mode)
    return { tx, store: tx.objectStore(STORE) }
  }

  async get(key: Key): Promise<OutboxEntry | undefined> {
    const { store } = this.store('readonly')
    return (await promisify(store.get(key))) as OutboxEntry | undefined
  }

  async all(): Promise<OutboxEntry[]> {
    const { store } = this.store('readonly')
    return (await promisify(store.getAll())) as OutboxEntry[]
  }

  async putIfNewer(entry: OutboxEntry): Promise<boolean> {
    // Read and write in one transaction, chained in callbacks so it never commits in between.
    const { tx, store } = this.store('readwrite')
    let stored = false
    const req = store.get([entry.attemptId, entry.itemId])
    req.onsuccess = () => {
      const current = req.result as OutboxEntry | undefined
      if (!current || current.seq < entry.seq) {
        store.put(entry)
        stored = true
      }
    }
    await txDone(tx)
    return stored
  }

  async deleteUpTo(key: Key, seq: number): Promise<boolean> {
    const { tx, store } = this.store('readwrite')
    let deleted = false
    const req = store.get(key)
    req.onsuccess = () => {
      const current = req.result as OutboxEntry | undefined
      if (current && current.seq <= seq) {
        store.delete(key)
        deleted = true
      }
    }
    await txDone(tx)
    return deleted
  }

  async deleteWhere(pred: (e: OutboxEntry) => boolean): Promise<number> {
    const { tx, store } = this.store('readwrite')
    let count = 0
    const req = store.openCursor()
    req.onsuccess = () => {
      const cursor = req.result
      if (!cursor) return
      if (pred(cursor.value as OutboxEntry)) {
        cursor.delete()
        count += 1
      }
      cursor.continue()
    }
    await txDone(tx)
    return count
  }
}

class MemoryBackend implements Backend {
  private readonly data = new Map<string, OutboxEntry>()
  private static k(key: Key): string {
    return key[0] + ':' + key[1]
  }
  private static copy(e: OutboxEntry): OutboxEntry {
    return JSON.parse(JSON.stringify(e)) as OutboxEntry
  }
  async get(key: Key) {
    const e = this.data.get(MemoryBackend.k(key))
    return e ? MemoryBackend.copy(e) : undefined
  }
  async all() {
    return Array.from(this.data.values()).map(MemoryBackend.copy)
  }
  async putIfNewer(entry: OutboxEntry) {
    const k = MemoryBackend.k([entry.attemptId, entry.itemId])
    const current = this.data.get(k)
    if (current && current.seq >= entry.seq) return false
    this.data.set(k, MemoryBackend.copy(entry))
    return true
  }
  async deleteUpTo(key: Key, seq: number) {
    const k = MemoryBackend.k(key)
    const current = this.data.get(k)
    if (!current || current.seq > seq) return false
    this.data.delete(k)
    return true
  }
  async deleteWhere(pred: (e: OutboxEntry) => boolean) {
    let count = 0
    this.data.forEach((e, k) => {
      if (pred(e)) {
        this.data.delete(k)
        count += 1
      }
    })
    return count
  }
}

let backendPromise: Promise<Backend> | null = null
let openedDb: IDBDatabase | null = null

function openBackend(): Promise<Backend> {
  if (typeof indexedDB === 'undefined' || !indexedDB) return Promise.resolve(new MemoryBackend())
  return new Promise<Backend>((resolve) => {
    let req: IDBOpenDBRequest
    try {
      req = indexedDB.open(DB_NAME, DB_VERSION)
    } catch {
      resolve(new MemoryBackend())
      return
    }
    req.onupgradeneeded = () => {
      const db = req.result
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: ['attemptId', 'itemId'] })
    }
    req.onsuccess = () => {
      openedDb = req.result
      // Another tab upgrading the schema: let it, and reopen on next use.
      openedDb.onversionchange = () => {
        if (openedDb) openedDb.close()
        openedDb = null
        backendPromise = null
      }
      resolve(new IdbBackend(req.result))
    }
    req.onerror = () => resolve(new MemoryBackend())
    req.onblocked = () => undefined
  })
}

function backend(): Promise<Backend> {
  if (!backendPromise) backendPromise = openBackend()
  return backendPromise
}

function bySeq(a: OutboxEntry, b: OutboxEntry): number {
  return a.seq - b.seq
}

/** Store an answer unless a newer one (higher seq) for the same item is already queued. */
export async function put(entry: OutboxEntry): Promise<boolean> {
  return (await backend()).putIfNewer(entry)
}

export async function get(attemptId: number, itemId: number): Promise<OutboxEntry | undefined> {
  return (await backend()).get([attemptId, itemId])
}

/** Queued answers, oldest first (the order they are re-sent in), optionally of one attempt. */
export async function list(attemptId?: number): Promise<OutboxEntry[]> {
  const all = await (await backend()).all()
  return all.filter((e) => attemptId === undefined || e.attemptId === attemptId).sort(bySeq)
}

/** The server acknowledged `seq` for this item: drop the entry unless a newer one replaced it. */
export async function ack(attemptId: number, itemId: number, seq: number): Promise<boolean> {
  return (await backend()).deleteUpTo([attemptId, itemId], seq)
}

/** Forget every queued answer of an attempt (it finished), or all of them. */
export async function clear(attemptId?: number): Promise<number> {
  return (await backend()).deleteWhere((e) => attemptId === undefined || e.attemptId === attemptId)
}

/**
 * Send queued answers oldest first through `send`. 'ack' and 'drop' remove the entry sent
 * (unless a newer answer replaced it meanwhile); 'retry' keeps it and stops the flush, keeping
 * every entry not yet sent, for the next flush (online, visible again, pageshow, reload).
 */
export async function flush(
  send: (entry: OutboxEntry) => Promise<SendResult>,
  attemptId?: number,
): Promise<FlushReport> {
  const entries = await list(attemptId)
  const report: FlushReport = { sent: 0, acked: 0, dropped: 0, stopped: false, remaining: 0 }
  for (const entry of entries) {
    let result: SendResult
    try {
      result = await send(entry)
    } catch {
      result = 'retry'
    }
    report.sent += 1
    if (result === 'retry') {
      report.stopped = true
      break
    }
    await ack(entry.attemptId, entry.itemId, entry.seq)
    if (result === 'ack') report.acked += 1
    else report.dropped += 1
  }
  report.remaining = (await list(attemptId)).length
  return report
}

/** Tests only: forget the open connection (and the in-memory fallback's data). */
export function resetForTests(): void {
  if (openedDb) openedDb.close()
  openedDb = null
  backendPromise = null
}
