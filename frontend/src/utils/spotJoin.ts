// The officer's side of joining a spot session: the join code from typed text or a scanned link,
// this phone's device id, and what a refused join means.
import { readStorage, writeStorage } from './storage'

/** The six digits of a join code in what was typed or pasted ("123 456", a whole QR link), or null. */
export function parseJoinCode(input: string | null | undefined): string | null {
  if (!input) return null
  const text = String(input).trim()
  const inLink = /[?&]code=(\d{6})(?:&|#|$)/.exec(text)
  if (inLink) return inLink[1]!
  const digits = text.replace(/[\s-]/g, '')
  return /^\d{6}$/.test(digits) ? digits : null
}

export const DEVICE_KEY = 'yz.spot.device'

function randomHex(bytes: number): string {
  const out: string[] = []
  const values = new Uint8Array(bytes)
  // Old WebViews may lack crypto.getRandomValues: Math.random is enough to tell two phones apart.
  const cryptoObj: { getRandomValues?: (a: Uint8Array) => Uint8Array } | null =
    typeof crypto !== 'undefined' ? crypto : null
  if (cryptoObj && typeof cryptoObj.getRandomValues === 'function') cryptoObj.getRandomValues(values)
  else for (let i = 0; i < bytes; i += 1) values[i] = Math.floor(Math.random() * 256)
  for (let i = 0; i < bytes; i += 1) out.push((values[i]! < 16 ? '0' : '') + values[i]!.toString(16))
  return out.join('')
}

/**
 * This browser's device id for spot sessions: random, made once and kept in localStorage, so
 * that a reload or a dropped phone rejoins as the same device and a second phone is refused.
 */
export function deviceId(): string {
  const stored = readStorage(DEVICE_KEY)
  if (stored && /^[A-Za-z0-9-]{8,64}$/.test(stored)) return stored
  const made = 'web-' + randomHex(16)
  writeStorage(DEVICE_KEY, made)
  return made
}

/** The refusals of POST /spot/join that have their own message (spot.join.errors.<code>). */
export const JOIN_REFUSALS = [
  'spot_code_invalid',
  'spot_not_started',
  'spot_not_drawn',
  'spot_out_of_scope',
  'spot_other_device',
] as const

export type JoinRefusal = (typeof JOIN_REFUSALS)[number]

/** How often a phone asks again while the inspector has not drawn yet (or the line is down). */
export const JOIN_RETRY_MS = 4000

/** Whether asking again later may succeed without anybody doing anything. */
export function joinRetries(code: string): boolean {
  return code === 'spot_not_started' || code === 'network_error' || code === 'server_busy'
}

export function isJoinRefusal(code: string): code is JoinRefusal {
  return (JOIN_REFUSALS as readonly string[]).indexOf(code) >= 0
}
