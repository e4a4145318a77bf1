import { describe, expect, it } from 'vitest'
import { clockOffset, formatCountdown, parseServerTime, remainingMs, serverNow } from '@/utils/time'

describe('parseServerTime', () => {
  it('reads UTC times with microseconds', () => {
    expect(parseServerTime('2026-11-27T06:27:48.974379Z')).toBe(Date.UTC(2026, 10, 27, 6, 27, 48, 974))
  })
  it('reads numeric zones and no fraction', () => {
    expect(parseServerTime('2021-05-01T08:00:00+08:00')).toBe(Date.UTC(2021, 4, 1, 0, 0, 0))
    expect(parseServerTime('2021-05-01T08:00:00-0130')).toBe(Date.UTC(2021, 4, 1, 9, 30, 0))
  })
  it('takes a time without zone as UTC', () => {
    expect(parseServerTime('2021-05-01T08:00:00.5')).toBe(Date.UTC(2021, 4, 1, 8, 0, 0, 500))
  })
  it('refuses garbage', () => {
    expect(() => parseServerTime('tomorrow-ish')).toThrow()
  })
})

describe('server clock offset', () => {
  const server = '2021-05-01T08:00:00Z'
  const serverMs = Date.UTC(2021, 4, 1, 8, 0, 0)

  it('is server_time minus the local clock when the answer arrived', () => {
    // The phone is 90 s fast.
    expect(clockOffset(server, serverMs + 90_000)).toBe(-90_000)
    // The phone is 2 h slow.
    expect(clockOffset(server, serverMs - 7_200_000)).toBe(7_200_000)
  })

  it('makes the countdown independent of a wrong phone clock', () => {
    const deadline = '2021-05-01T08:30:00Z' // 30 min after server_time
    for (const skew of [-3_600_000, -1234, 0, 5000, 86_400_000]) {
      const receivedAt = serverMs + skew
      const offset = clockOffset(server, receivedAt)
      expect(remainingMs(deadline, offset, receivedAt)).toBe(30 * 60_000)
      // Ten seconds later on the (wrong) phone clock: ten seconds less.
      expect(remainingMs(deadline, offset, receivedAt + 10_000)).toBe(30 * 60_000 - 10_000)
      expect(serverNow(offset, receivedAt)).toBe(serverMs)
    }
  })

  it('uses the phone clock alone only through the offset (offset 0 = trusting it)', () => {
    const deadline = Date.UTC(2021, 4, 1, 8, 30, 0)
    const phoneNow = Date.UTC(2021, 4, 1, 8, 29, 0)
    expect(remainingMs(deadline, 0, phoneNow)).toBe(60_000)
    // The same phone, told by the server that it is 2 min slow: time is already up.
    expect(remainingMs(deadline, 120_000, phoneNow)).toBe(0)
  })

  it('never goes below zero', () => {
    expect(remainingMs('2021-05-01T08:00:00Z', 0, Date.UTC(2021, 4, 1, 9, 0, 0))).toBe(0)
    expect(remainingMs('2021-05-01T08:00:00Z', 0, Date.UTC(2021, 4, 1, 8, 0, 0))).toBe(0)
  })
})

describe('formatCountdown', () => {
  it('shows mm:ss below an hour and h:mm:ss above', () => {
    expect(formatCountdown(30 * 60_000)).toBe('30:00')
    expect(formatCountdown(65_000)).toBe('01:05')
    expect(formatCountdown(3_600_000)).toBe('1:00:00')
    expect(formatCountdown(3_661_000)).toBe('1:01:01')
    expect(formatCountdown(10 * 3_600_000 + 5000)).toBe('10:00:05')
  })
  it('rounds up, so 00:00 shows only when time is really up', () => {
    expect(formatCountdown(1)).toBe('00:01')
    expect(formatCountdown(999)).toBe('00:01')
    expect(formatCountdown(1000)).toBe('00:01')
    expect(formatCountdown(1001)).toBe('00:02')
    expect(formatCountdown(0)).toBe('00:00')
    expect(formatCountdown(-5000)).toBe('00:00')
  })
})
