import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError, api } from '@/api/http'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY, useAuthStore } from '@/stores/auth'
import type { TokenPair, UserOut } from '@/api/types'
import { apiError, FakeServer, json } from './fakeServer'

const user: UserOut = {
  id: 4,
  username: 'officer001',
  police_number: 'officer001',
  name: '赵娟文',
  role: 'officer',
  unit_id: 2,
  unit_name: '市委政法委',
  must_change_password: false,
  language: 'zh-CN',
}

function pair(n: number, extra: Partial<UserOut> = {}): TokenPair {
  return {
    access_token: 'access-' + n,
    refresh_token: 'refresh-' + n,
    token_type: 'bearer',
    expires_in: 900,
    user: { ...user, ...extra },
  }
}

/** A server whose valid access token is `current`; anything else is expired. */
function authServer() {
  const server = new FakeServer()
  const state = { current: 'access-1', issued: 1, refreshDelay: 0 }
  server.on('POST', /^\/auth\/login$/, (c) => {
    const body = c.body as { username: string; password: string }
    if (body.password !== 'demo-pass-2021') return apiError(401, 'invalid_credentials')
    return json(pair(1))
  })
  server.on('POST', /^\/auth\/refresh$/, async (c) => {
    const body = c.body as { refresh_token: string }
    if (body.refresh_token !== 'refresh-' + state.issued) return apiError(401, 'refresh_token_reused')
    if (state.refreshDelay) await new Promise((r) => setTimeout(r, state.refreshDelay))
    state.issued += 1
    state.current = 'access-' + state.issued
    return json(pair(state.issued))
  })
  server.on('GET', /^\/me\/quizzes$/, (c) =>
    c.authorization === 'Bearer ' + state.current ? json([]) : apiError(401, 'invalid_token'),
  )
  server.on('GET', /^\/me$/, (c) =>
    c.authorization === 'Bearer ' + state.current ? json(user) : apiError(401, 'invalid_token'),
  )
  server.install()
  return { server, state }
}

describe('auth store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
  })

  it('logs in, keeps the pair in localStorage and sends the Bearer token', async () => {
    const { server } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    expect(auth.isLoggedIn).toBe(true)
    expect(localStorage.getItem(ACCESS_KEY)).toBe('access-1')
    expect(localStorage.getItem(REFRESH_KEY)).toBe('refresh-1')
    expect(JSON.parse(localStorage.getItem(USER_KEY)!).name).toBe('赵娟文')
    await api.get('/me/quizzes')
    expect(server.callsTo('GET', /^\/me\/quizzes$/)[0]!.authorization).toBe('Bearer access-1')
    expect(server.callsTo('POST', /^\/auth\/login$/)[0]!.authorization).toBeNull()
  })

  it('reports invalid credentials and keeps logged out', async () => {
    authServer()
    const auth = useAuthStore()
    const err = await auth.login('officer001', 'wrong').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('invalid_credentials')
    expect(auth.isLoggedIn).toBe(false)
  })

  it('reads Retry-After on too_many_login_attempts', async () => {
    const server = new FakeServer()
    server.on('POST', /^\/auth\/login$/, () => apiError(429, 'too_many_login_attempts', { 'Retry-After': '617' }))
    server.install()
    const err = (await useAuthStore().login('a', 'b').catch((e: unknown) => e)) as ApiError
    expect(err.code).toBe('too_many_login_attempts')
    expect(err.retryAfter).toBe(617)
  })

  it('restores the login from localStorage', () => {
    localStorage.setItem(ACCESS_KEY, 'a')
    localStorage.setItem(REFRESH_KEY, 'r')
    localStorage.setItem(USER_KEY, JSON.stringify({ ...user, must_change_password: true }))
    const auth = useAuthStore()
    expect(auth.isLoggedIn).toBe(true)
    expect(auth.mustChangePassword).toBe(true)
  })

  it('refreshes an expired access token silently and repeats the request', async () => {
    const { server, state } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    state.current = 'expired-for-everyone' // the access token expired
    server.on('POST', /^\/auth\/refresh$/, () => {
      state.current = 'access-2'
      return json(pair(2))
    })
    await expect(api.get('/me/quizzes')).resolves.toEqual([])
    const quizCalls = server.callsTo('GET', /^\/me\/quizzes$/)
    expect(quizCalls.map((c) => c.authorization)).toEqual(['Bearer access-1', 'Bearer access-2'])
    expect(localStorage.getItem(ACCESS_KEY)).toBe('access-2')
    expect(localStorage.getItem(REFRESH_KEY)).toBe('refresh-2')
  })

  it('is single-flight: concurrent 401s share one refresh', async () => {
    const { server, state } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    state.current = 'nobody' // expired
    state.refreshDelay = 20
    // After the refresh, access-2 is valid.
    const results = await Promise.all([
      api.get('/me/quizzes'),
      api.get('/me'),
      api.get('/me/quizzes'),
      api.get('/me'),
      api.get('/me/quizzes'),
    ])
    expect(results).toHaveLength(5)
    expect(server.callsTo('POST', /^\/auth\/refresh$/)).toHaveLength(1)
    // Every request was retried once, with the new token.
    const retried = server.calls.filter((c) => c.method === 'GET' && c.authorization === 'Bearer access-2')
    expect(retried).toHaveLength(5)
    expect(auth.accessToken).toBe('access-2')
    expect(auth.isLoggedIn).toBe(true)
  })

  it('a 401 for a token already replaced retries without another refresh', async () => {
    const { server, state } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    state.current = 'nobody'
    await api.get('/me') // refreshes to access-2
    expect(server.callsTo('POST', /^\/auth\/refresh$/)).toHaveLength(1)
    // A request that was sent with access-1 earlier gets its 401 late.
    await expect(auth.refresh('access-1')).resolves.toBe(true)
    expect(server.callsTo('POST', /^\/auth\/refresh$/)).toHaveLength(1)
  })

  it('adopts a pair another tab stored instead of reusing a spent refresh token', async () => {
    const { server, state } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    // Another tab refreshed: storage holds pair 2; this tab still holds pair 1.
    localStorage.setItem(ACCESS_KEY, 'access-2')
    localStorage.setItem(REFRESH_KEY, 'refresh-2')
    state.issued = 2
    state.current = 'access-2'
    await expect(api.get('/me/quizzes')).resolves.toEqual([])
    expect(server.callsTo('POST', /^\/auth\/refresh$/)).toHaveLength(0)
    expect(auth.accessToken).toBe('access-2')
  })

  it('ends the login when the refresh is refused', async () => {
    const { server, state } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    state.current = 'nobody'
    server.on('POST', /^\/auth\/refresh$/, () => apiError(401, 'session_revoked'))
    const err = (await api.get('/me/quizzes').catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(401)
    expect(auth.isLoggedIn).toBe(false)
    expect(auth.endedBecause).toBe('session_revoked')
    expect(localStorage.getItem(ACCESS_KEY)).toBeNull()
  })

  it('keeps the login when the refresh fails for want of a network', async () => {
    const { server, state } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    state.current = 'nobody'
    server.on('POST', /^\/auth\/refresh$/, () => {
      throw new TypeError('Failed to fetch')
    })
    const err = (await api.get('/me/quizzes').catch((e: unknown) => e)) as ApiError
    expect(err.isNetwork).toBe(true)
    expect(auth.isLoggedIn).toBe(true)
    // The next try refreshes again (the failed one did not stick).
    server.on('POST', /^\/auth\/refresh$/, () => {
      state.current = 'access-2'
      return json(pair(2))
    })
    await expect(api.get('/me/quizzes')).resolves.toEqual([])
  })

  it('forgets the login on session_revoked from any request', async () => {
    const { server } = authServer()
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    server.on('GET', /^\/me$/, () => apiError(401, 'session_revoked'))
    await expect(api.get('/me')).rejects.toBeInstanceOf(ApiError)
    expect(auth.isLoggedIn).toBe(false)
    expect(server.callsTo('POST', /^\/auth\/refresh$/)).toHaveLength(0)
  })

  it('logs out with the refresh token and forgets the pair even offline', async () => {
    const { server } = authServer()
    server.on('POST', /^\/auth\/logout$/, () => json(null, 204))
    const auth = useAuthStore()
    await auth.login('officer001', 'demo-pass-2021')
    await auth.logout()
    expect(server.callsTo('POST', /^\/auth\/logout$/)[0]!.body).toEqual({ refresh_token: 'refresh-1' })
    expect(auth.isLoggedIn).toBe(false)

    await auth.login('officer001', 'demo-pass-2021')
    server.offline = true
    await auth.logout()
    expect(auth.isLoggedIn).toBe(false)
    expect(localStorage.getItem(REFRESH_KEY)).toBeNull()
  })

  it('clears must_change_password after a successful change', async () => {
    const { server } = authServer()
    server.on('POST', /^\/auth\/login$/, () => json(pair(1, { must_change_password: true })))
    server.on('POST', /^\/me\/password$/, () => json(null, 204))
    const auth = useAuthStore()
    await auth.login('officer001', 'x')
    expect(auth.mustChangePassword).toBe(true)
    await auth.changePassword('old', 'new-Passw0rd')
    expect(auth.mustChangePassword).toBe(false)
    expect(server.callsTo('POST', /^\/me\/password$/)[0]!.body).toEqual({
      current_password: 'old',
      new_password: 'new-Passw0rd',
    })
  })
})
