// The inspector's live board: an authenticated WebSocket (/spot/sessions/{id}/live) that sends a
// full snapshot at once and after every change, with HTTP polling of GET .../board whenever the
// socket is not delivering (not there, dropped, refused). Every snapshot is the whole board, so
// nothing depends on having seen every event: a reconnect or a poll restores everything.
//
// Protocol: connect; send {"type":"auth","token"} (the server waits 5 s); receive
// {"type":"snapshot","board","seq"} at once and after each change; {"type":"ping"} → {"type":"pong"};
// close codes 4401 (token refused), 4403 (not yours), 4404 (no such session), 4400 (bad message).
import type { SpotBoard } from '@/api/spot'

/** The part of a WebSocket this client uses (a fake one in the tests). */
export interface SocketLike {
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason?: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}

/** live: snapshots arrive over the socket; polling: read over HTTP every few seconds; stopped. */
export type LiveMode = 'connecting' | 'live' | 'polling' | 'stopped'

export type LiveMessage =
  | { type: 'snapshot'; board: SpotBoard; seq: number }
  | { type: 'pong' }
  | { type: 'other' }

/** A message from the server, or null when it is not one (not JSON, no type, a snapshot without a board). */
export function parseLiveMessage(data: unknown): LiveMessage | null {
  if (typeof data !== 'string') return null
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return null
  }
  if (!value || typeof value !== 'object') return null
  const message = value as { type?: unknown; board?: unknown; seq?: unknown }
  if (message.type === 'snapshot') {
    const board = message.board as SpotBoard | undefined
    if (!board || typeof board !== 'object' || !board.session || !Array.isArray(board.participants)) return null
    return { type: 'snapshot', board, seq: typeof message.seq === 'number' ? message.seq : 0 }
  }
  if (message.type === 'pong') return { type: 'pong' }
  return typeof message.type === 'string' ? { type: 'other' } : null
}

export type CloseAction = 'refresh_token' | 'give_up' | 'retry'

/** What a close code asks for: a fresh token (4401), nothing more over the socket (4403, 4404), or a retry. */
export function closeAction(code: number): CloseAction {
  if (code === 4401) return 'refresh_token'
  if (code === 4403 || code === 4404) return 'give_up'
  return 'retry'
}

export const BACKOFF_MIN_MS = 1000
export const BACKOFF_MAX_MS = 30000

/** Wait before reconnect number `failures` (0-based): doubling from 1 s up to 30 s, with jitter (50–100 %). */
export function backoffMs(failures: number, random: number = Math.random()): number {
  const full = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, Math.max(0, failures)))
  return Math.round(full * (0.5 + 0.5 * Math.min(1, Math.max(0, random))))
}

/** ws(s)://host/api/v1/spot/sessions/{id}/live for the page's own origin. */
export function liveUrl(location: { protocol: string; host: string }, spotId: number): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return scheme + '//' + location.host + '/api/v1/spot/sessions/' + spotId + '/live'
}

export interface LiveOptions {
  url: string
  /** Open a socket; null when the engine has no WebSocket (polling only). */
  openSocket: ((url: string) => SocketLike) | null
  fetchBoard: () => Promise<SpotBoard>
  getToken: () => string | null
  /** A fresh access token after `used` was refused; false when the login has ended. */
  refreshToken: (used: string) => Promise<boolean>
  onBoard: (board: SpotBoard) => void
  onMode?: (mode: LiveMode) => void
  /** A poll failed (shown to the inspector; polling goes on). null when one succeeded again. */
  onPollError?: (error: unknown | null) => void
  pollMs?: number
  pingMs?: number
  /** Close and reconnect when nothing came over the socket for this long. */
  silenceMs?: number
  /** Give up on a connection that sent no snapshot this long after opening. */
  snapshotTimeoutMs?: number
  random?: () => number
  now?: () => number
}

type Timer = ReturnType<typeof setTimeout>

export class SpotLive {
  private readonly o: Required<Omit<LiveOptions, 'onMode' | 'onPollError'>> &
    Pick<LiveOptions, 'onMode' | 'onPollError'>
  private socket: SocketLike | null = null
  private socketLive = false
  private socketSeq = -1
  private socketDisabled = false
  private failures = 0
  private lastHeard = 0
  private stopped = true
  private mode: LiveMode = 'stopped'
  private pollTimer: Timer | null = null
  private pollRunning = false
  private reconnectTimer: Timer | null = null
  private pingTimer: ReturnType<typeof setInterval> | null = null
  private snapshotTimer: Timer | null = null
  /** Grows with every socket snapshot applied: an HTTP answer started before one is older, dropped. */
  private generation = 0

  constructor(options: LiveOptions) {
    this.o = {
      pollMs: 2000,
      pingMs: 20000,
      silenceMs: 50000,
      snapshotTimeoutMs: 10000,
      random: Math.random,
      now: () => Date.now(),
      ...options,
    }
  }

  get currentMode(): LiveMode {
    return this.mode
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.setMode('polling')
    void this.poll()
    this.connect()
  }

  stop(): void {
    this.stopped = true
    this.clearTimers()
    const socket = this.socket
    this.socket = null
    this.socketLive = false
    if (socket) {
      this.detach(socket)
      try {
        socket.close(1000, 'bye')
      } catch {
        // already closed
      }
    }
    this.setMode('stopped')
  }

  /** Read the board now over HTTP (after an action of the inspector's), whatever the socket does. */
  refresh(): Promise<void> {
    return this.fetchOnce()
  }

  /** Back online or in the foreground: try the socket again at once (and read the board). */
  wake(): void {
    if (this.stopped) return
    if (!this.socketLive) {
      this.failures = 0
      if (!this.socket) {
        if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
        this.reconnectTimer = null
        this.connect()
      }
      void this.fetchOnce()
    }
  }

  private setMode(mode: LiveMode): void {
    if (mode === this.mode) return
    this.mode = mode
    if (this.o.onMode) this.o.onMode(mode)
  }

  private clearTimers(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer)
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    if (this.pingTimer) clearInterval(this.pingTimer)
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer)
    this.pollTimer = this.reconnectTimer = this.pingTimer = this.snapshotTimer = null
  }

  // HTTP -----------------------------------------------------------------------------------------

  private async fetchOnce(): Promise<void> {
    const started = this.generation
    try {
      const board = await this.o.fetchBoard()
      if (this.stopped || started !== this.generation) return // a socket snapshot is newer
      this.o.onBoard(board)
      if (this.o.onPollError) this.o.onPollError(null)
    } catch (err) {
      if (!this.stopped && this.o.onPollError) this.o.onPollError(err)
    }
  }

  private async poll(): Promise<void> {
    if (this.pollTimer) clearTimeout(this.pollTimer)
    this.pollTimer = null
    if (this.stopped || this.socketLive || this.pollRunning) return
    this.pollRunning = true
    try {
      await this.fetchOnce()
    } finally {
      this.pollRunning = false
    }
    this.schedulePoll()
  }

  private schedulePoll(): void {
    if (this.stopped || this.socketLive || this.pollTimer) return
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null
      void this.poll()
    }, this.o.pollMs)
  }

  // WebSocket ------------------------------------------------------------------------------------

  private connect(): void {
    if (this.stopped || this.socketDisabled || this.socket || !this.o.openSocket) return
    let socket: SocketLike
    try {
      socket = this.o.openSocket(this.o.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = socket
    this.socketSeq = -1
    if (this.mode !== 'polling') this.setMode('connecting')
    socket.onopen = () => {
      if (socket !== this.socket) return
      const token = this.o.getToken()
      this.lastHeard = this.o.now()
      socket.send(JSON.stringify({ type: 'auth', token: token || '' }))
      this.snapshotTimer = setTimeout(() => {
        if (socket === this.socket && !this.socketLive) this.drop(socket, 'no snapshot')
      }, this.o.snapshotTimeoutMs)
    }
    socket.onmessage = (event) => {
      if (socket !== this.socket) return
      this.lastHeard = this.o.now()
      const message = parseLiveMessage(event.data)
      if (!message || message.type !== 'snapshot') return
      if (message.seq <= this.socketSeq) return // an older snapshot overtaken on this connection
      this.socketSeq = message.seq
      this.generation += 1
      if (!this.socketLive) this.goLive(socket)
      this.o.onBoard(message.board)
      if (this.o.onPollError) this.o.onPollError(null)
    }
    socket.onerror = () => {
      // onclose follows and decides
    }
    socket.onclose = (event) => {
      if (socket !== this.socket) return
      this.closed(socket, event.code)
    }
  }

  private goLive(socket: SocketLike): void {
    this.socketLive = true
    this.failures = 0
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer)
    this.snapshotTimer = null
    if (this.pollTimer) clearTimeout(this.pollTimer)
    this.pollTimer = null
    this.setMode('live')
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.pingTimer = setInterval(() => {
      if (socket !== this.socket) return
      if (this.o.now() - this.lastHeard > this.o.silenceMs) {
        this.drop(socket, 'silent')
        return
      }
      try {
        socket.send(JSON.stringify({ type: 'ping' }))
      } catch {
        this.drop(socket, 'send failed')
      }
    }, this.o.pingMs)
  }

  private detach(socket: SocketLike): void {
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null
  }

  /** Give up on this connection ourselves (silent, no snapshot): close it and carry on as if it dropped. */
  private drop(socket: SocketLike, reason: string): void {
    this.detach(socket)
    try {
      socket.close(1000, reason)
    } catch {
      // already closed
    }
    this.closed(socket, 1006)
  }

  private closed(socket: SocketLike, code: number): void {
    if (socket !== this.socket) return
    this.detach(socket)
    this.socket = null
    this.socketLive = false
    if (this.pingTimer) clearInterval(this.pingTimer)
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer)
    this.pingTimer = this.snapshotTimer = null
    if (this.stopped) return
    this.setMode('polling')
    void this.poll()
    const action = closeAction(code)
    if (action === 'give_up') {
      // Not this inspector's session (or gone): HTTP polling shows the server's answer.
      this.socketDisabled = true
      return
    }
    if (action === 'refresh_token') {
      const used = this.o.getToken() || ''
      this.o.refreshToken(used).then(
        (ok) => {
          if (ok) this.scheduleReconnect()
          else this.socketDisabled = true // the login ended: the app goes back to login
        },
        () => this.scheduleReconnect(),
      )
      return
    }
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.socketDisabled || this.reconnectTimer) return
    const wait = backoffMs(this.failures, this.o.random())
    this.failures += 1
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.connect()
    }, wait)
  }
}
