// Server times and the countdown. The server owns the clock: the phone's clock is used only
// through an offset measured against the server's `server_time` on every attempt fetch.

/**
 * Milliseconds since the epoch for an ISO 8601 time from the server. Handles microsecond
 * fractions and a missing zone (taken as UTC), which older engines' Date.parse may reject.
 */
export function parseServerTime(value: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
    value.trim(),
  )
  if (!m) {
    const parsed = Date.parse(value)
    if (isNaN(parsed)) throw new Error('Not a time: ' + value)
    return parsed
  }
  const part = (i: number): number => Number(m[i] || 0)
  const ms = m[7] ? Math.round(Number('0.' + m[7]) * 1000) : 0
  let t = Date.UTC(part(1), part(2) - 1, part(3), part(4), part(5), part(6), 0) + ms
  const zone = m[8]
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const minutes = parseInt(digits.slice(0, 2), 10) * 60 + parseInt(digits.slice(2), 10)
    t -= sign * minutes * 60000
  }
  return t
}

/** offset = server_time − Date.now() at the moment the answer carrying server_time arrived. */
export function clockOffset(serverTime: string, receivedAt: number = Date.now()): number {
  return parseServerTime(serverTime) - receivedAt
}

/** The server's "now" estimated from the local clock and the offset. */
export function serverNow(offset: number, now: number = Date.now()): number {
  return now + offset
}

/** remaining = deadline − (Date.now() + offset), never below 0. */
export function remainingMs(deadline: string | number, offset: number, now: number = Date.now()): number {
  const end = typeof deadline === 'number' ? deadline : parseServerTime(deadline)
  return Math.max(0, end - serverNow(offset, now))
}

/** "mm:ss" below an hour, "h:mm:ss" above; seconds rounded up so 0 shows only at the end. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const two = (n: number) => (n < 10 ? '0' + n : String(n))
  return h > 0 ? h + ':' + two(m) + ':' + two(s) : two(m) + ':' + two(s)
}

/** A server time as the phone's local date and time, "2021-05-01 08:30". */
export function formatLocalDateTime(value: string | null): string {
  if (!value) return ''
  const d = new Date(parseServerTime(value))
  const two = (n: number) => (n < 10 ? '0' + n : String(n))
  const date = d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate())
  const time = two(d.getHours()) + ':' + two(d.getMinutes())
  return date + ' ' + time
}

/** A score without needless decimals: 78 → "78", 77.5 → "77.5". */
export function formatScore(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–'
  return String(Math.round(value * 100) / 100)
}
