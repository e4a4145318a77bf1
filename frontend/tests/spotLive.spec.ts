import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SpotBoard } from '@/api/spot'
import { BACKOFF_MAX_MS, SpotLive, backoffMs, closeAction, liveUrl, parseLiveMessage } from '@/utils/spotLive'
import type { LiveMode, LiveOptions, SocketLike } from '@/utils/spotLive'

function board(version: number, joined = 0): SpotBoard {
  return {
    session: {
      id: 7,
      title: 't',
      code: '123456',
      unit_id: 1,
      unit_name: 'u',
      include_subunits: true,
      mode: 'phone',
      draw_count: 3,
      status: 'running',
      quiz_id: 1,
      seed_commitment: 'a',
      roster_hash: 'b',
      roster_size: 3,
      seed: 'c',
      drawn: [],
      created_by: 'x',
      created_at: '2024-05-01T08:00:00Z',
      drawn_at: null,
      closed_at: null,
      join_path: '/spot/join?code=123456',
    },
    participants: Array.from({ length: joined }, (_, i) => ({
      user_id: i + 1,
      name: 'n',
      police_number: 'P' + i,
      unit_name: 'u',
      drawn: true,
      joined_at: 'x',
      late: false,
      excused: false,
      excuse_reason: null,
      answered: 0,
      total: 3,
      finished: false,
      score_percent: null,
    })),
    questions: [],
    oral: [],
    version,
  }
}

class FakeSocket implements SocketLike {
  sent: string[] = []
  closedWith: number | null = null
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason?: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(data)
  }
  close(code = 1000): void {
    this.closedWith = code
  }
  // The server's side:
  open(): void {
    if (this.onopen) this.onopen({})
  }
  snapshot(b: SpotBoard, seq: number): void {
    if (this.onmessage) this.onmessage({ data: JSON.stringify({ type: 'snapshot', board: b, seq, cause: 'change' }) })
  }
  drop(code: number): void {
    if (this.onclose) this.onclose({ code })
  }
}

interface Harness {
  live: SpotLive
  sockets: FakeSocket[]
  boards: SpotBoard[]
  modes: LiveMode[]
  fetches: { count: number }
  resolveFetch: ((b: SpotBoard) => void)[]
  refreshToken: ReturnType<typeof vi.fn>
}

/** A live client whose HTTP reads answer `nextBoard()` at once (or wait, when `manualFetch`). */
function harness(options: Partial<LiveOptions> & { manualFetch?: boolean; socketOk?: boolean } = {}): Harness {
  const sockets: FakeSocket[] = []
  const boards: SpotBoard[] = []
  const modes: LiveMode[] = []
  const fetches = { count: 0 }
  const resolveFetch: ((b: SpotBoard) => void)[] = []
  const refreshToken = vi.fn(async () => true)
  const live = new SpotLive({
    url: 'ws://host/api/v1/spot/sessions/7/live',
    openSocket:
      options.socketOk === false
        ? () => {
            throw new Error('no sockets here')
          }
        : (url) => {
            const s = new FakeSocket(url)
            sockets.push(s)
            return s
          },
    fetchBoard: () => {
      fetches.count += 1
      if (options.manualFetch) return new Promise<SpotBoard>((resolve) => resolveFetch.push(resolve))
      return Promise.resolve(board(100 + fetches.count))
    },
    getToken: () => 'token-1',
    refreshToken,
    onBoard: (b) => boards.push(b),
    onMode: (m) => modes.push(m),
    random: () => 1,
    ...options,
  })
  return { live, sockets, boards, modes, fetches, resolveFetch, refreshToken }
}

describe('live board messages', () => {
  it('reads snapshots and pongs, refuses the rest', () => {
    const snap = parseLiveMessage(JSON.stringify({ type: 'snapshot', board: board(1), seq: 4 }))
    expect(snap).toEqual({ type: 'snapshot', board: board(1), seq: 4 })
    expect(parseLiveMessage('{"type":"pong"}')).toEqual({ type: 'pong' })
    expect(parseLiveMessage('{"type":"news"}')).toEqual({ type: 'other' })
    expect(parseLiveMessage('{"type":"snapshot","seq":1}')).toBeNull()
    expect(parseLiveMessage('not json')).toBeNull()
    expect(parseLiveMessage('[1]')).toBeNull()
    expect(parseLiveMessage(new ArrayBuffer(2))).toBeNull()
  })

  it('maps close codes to what to do next', () => {
    expect(closeAction(4401)).toBe('refresh_token')
    expect(closeAction(4403)).toBe('give_up')
    expect(closeAction(4404)).toBe('give_up')
    expect(closeAction(4400)).toBe('retry')
    expect(closeAction(1006)).toBe('retry')
    expect(closeAction(1011)).toBe('retry')
  })

  it('backs off by doubling from 1 s to at most 30 s, with jitter', () => {
    expect(backoffMs(0, 1)).toBe(1000)
    expect(backoffMs(1, 1)).toBe(2000)
    expect(backoffMs(3, 1)).toBe(8000)
    expect(backoffMs(10, 1)).toBe(BACKOFF_MAX_MS)
    expect(backoffMs(0, 0)).toBe(500)
    expect(backoffMs(10, 0)).toBe(BACKOFF_MAX_MS / 2)
  })

  it('builds the socket address from the page origin', () => {
    expect(liveUrl({ protocol: 'https:', host: 'yz.example.cn' }, 7)).toBe('wss://yz.example.cn/api/v1/spot/sessions/7/live')
    expect(liveUrl({ protocol: 'http:', host: '127.0.0.1:8000' }, 12)).toBe('ws://127.0.0.1:8000/api/v1/spot/sessions/12/live')
  })
})

describe('the live board client', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('polls every 2 s while there is no socket', async () => {
    const h = harness({ socketOk: false })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.fetches.count).toBe(1)
    expect(h.boards.length).toBe(1)
    await vi.advanceTimersByTimeAsync(2000)
    expect(h.fetches.count).toBe(2)
    await vi.advanceTimersByTimeAsync(4000)
    expect(h.fetches.count).toBe(4)
    expect(h.live.currentMode).toBe('polling')
    h.live.stop()
    await vi.advanceTimersByTimeAsync(10000)
    expect(h.fetches.count).toBe(4)
  })

  it('authenticates first, then takes snapshots over the socket and stops polling', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    const socket = h.sockets[0]!
    expect(socket.url).toBe('ws://host/api/v1/spot/sessions/7/live')
    socket.open()
    expect(JSON.parse(socket.sent[0]!)).toEqual({ type: 'auth', token: 'token-1' })
    socket.snapshot(board(1, 2), 1)
    expect(h.live.currentMode).toBe('live')
    expect(h.boards[h.boards.length - 1]).toEqual(board(1, 2))
    const fetchesWhenLive = h.fetches.count
    await vi.advanceTimersByTimeAsync(10000)
    expect(h.fetches.count).toBe(fetchesWhenLive)
    // An older snapshot on the same connection does not overwrite a newer one.
    socket.snapshot(board(3, 3), 3)
    socket.snapshot(board(2, 1), 2)
    expect(h.boards[h.boards.length - 1]).toEqual(board(3, 3))
    h.live.stop()
    expect(socket.closedWith).toBe(1000)
  })

  it('falls back to polling when the socket drops and reconnects with backoff; the new snapshot restores all', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.sockets[0]!.open()
    h.sockets[0]!.snapshot(board(1, 1), 5)
    const before = h.fetches.count
    h.sockets[0]!.drop(1006)
    expect(h.live.currentMode).toBe('polling')
    await vi.advanceTimersByTimeAsync(0)
    expect(h.fetches.count).toBe(before + 1) // read at once over HTTP
    expect(h.sockets.length).toBe(1)
    await vi.advanceTimersByTimeAsync(1000) // first backoff: 1 s
    expect(h.sockets.length).toBe(2)
    const again = h.sockets[1]!
    again.open()
    // A new connection counts from 1 again: its first snapshot is taken.
    again.snapshot(board(9, 3), 1)
    expect(h.live.currentMode).toBe('live')
    expect(h.boards[h.boards.length - 1]).toEqual(board(9, 3))
    h.live.stop()
  })

  it('waits longer after each failed connection', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.sockets[0]!.drop(1006)
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.sockets.length).toBe(2)
    h.sockets[1]!.drop(1006)
    await vi.advanceTimersByTimeAsync(1999)
    expect(h.sockets.length).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sockets.length).toBe(3)
    h.live.stop()
  })

  it('refreshes the token after 4401 and connects again', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.sockets[0]!.open()
    h.sockets[0]!.drop(4401)
    await vi.advanceTimersByTimeAsync(0)
    expect(h.refreshToken).toHaveBeenCalledWith('token-1')
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.sockets.length).toBe(2)
    h.live.stop()
  })

  it('stops using the socket after 4403 or 4404 (the HTTP reads show the refusal) but keeps polling', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.sockets[0]!.open()
    h.sockets[0]!.drop(4403)
    await vi.advanceTimersByTimeAsync(60000)
    expect(h.sockets.length).toBe(1)
    expect(h.fetches.count).toBeGreaterThan(25)
    h.live.stop()
  })

  it('drops an HTTP answer that a socket snapshot overtook', async () => {
    const h = harness({ manualFetch: true })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.resolveFetch.length).toBe(1) // the first poll is still on its way
    h.sockets[0]!.open()
    h.sockets[0]!.snapshot(board(5, 2), 1)
    h.resolveFetch[0]!(board(4, 1))
    await vi.advanceTimersByTimeAsync(0)
    expect(h.boards).toEqual([board(5, 2)])
    h.live.stop()
  })

  it('pings while live and reconnects when the socket falls silent', async () => {
    let now = 0
    const h = harness({ pingMs: 1000, silenceMs: 3500, now: () => now })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    const socket = h.sockets[0]!
    socket.open()
    socket.snapshot(board(1), 1)
    now = 1000
    await vi.advanceTimersByTimeAsync(1000)
    expect(socket.sent.slice(1).map((m) => JSON.parse(m))).toEqual([{ type: 'ping' }])
    now = 5000
    await vi.advanceTimersByTimeAsync(1000)
    expect(socket.closedWith).toBe(1000)
    expect(h.live.currentMode).toBe('polling')
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.sockets.length).toBe(2)
    h.live.stop()
  })

  it('gives up on a connection that never sends a snapshot', async () => {
    const h = harness({ snapshotTimeoutMs: 3000 })
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.sockets[0]!.open()
    await vi.advanceTimersByTimeAsync(3000)
    expect(h.sockets[0]!.closedWith).toBe(1000)
    expect(h.live.currentMode).toBe('polling')
    h.live.stop()
  })

  it('tries the socket again at once when woken (back online)', async () => {
    const h = harness()
    h.live.start()
    await vi.advanceTimersByTimeAsync(0)
    h.sockets[0]!.drop(1006)
    h.sockets[0]!.drop(1006) // a late duplicate close changes nothing
    await vi.advanceTimersByTimeAsync(500)
    expect(h.sockets.length).toBe(1)
    h.live.wake()
    expect(h.sockets.length).toBe(2)
    h.live.stop()
  })
})
