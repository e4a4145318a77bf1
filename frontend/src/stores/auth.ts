// Login state: the token pair and the user, kept in localStorage, with a silent single-flight
// refresh of an expired access token so that nothing (a quiz least of all) is interrupted.
import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import { ApiError, setAuthHooks } from '@/api/http'
import { authApi } from '@/api/endpoints'
import type { TokenPair, UserOut } from '@/api/types'
import { readJson, readStorage, writeStorage } from '@/utils/storage'

export const ACCESS_KEY = 'yz.access_token'
export const REFRESH_KEY = 'yz.refresh_token'
export const USER_KEY = 'yz.user'
const REFRESH_LOCK = 'yz.auth.refresh'

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
}

export const useAuthStore = defineStore('auth', () => {
  const accessToken = ref<string | null>(readStorage(ACCESS_KEY))
  const refreshToken = ref<string | null>(readStorage(REFRESH_KEY))
  const user = ref<UserOut | null>(readJson<UserOut>(USER_KEY))
  /** Why the last login ended without the user logging out (e.g. session_revoked), for the login page. */
  const endedBecause = ref<string | null>(null)

  const isLoggedIn = computed(() => !!accessToken.value && !!refreshToken.value)
  const mustChangePassword = computed(() => !!user.value && user.value.must_change_password)

  function persist(): void {
    writeStorage(ACCESS_KEY, accessToken.value)
    writeStorage(REFRESH_KEY, refreshToken.value)
    writeStorage(USER_KEY, user.value ? JSON.stringify(user.value) : null)
  }

  function setPair(pair: TokenPair): void {
    accessToken.value = pair.access_token
    refreshToken.value = pair.refresh_token
    user.value = pair.user
    endedBecause.value = null
    persist()
  }

  function setUser(next: UserOut): void {
    user.value = next
    persist()
  }

  function forget(reason: string | null = null): void {
    accessToken.value = null
    refreshToken.value = null
    user.value = null
    endedBecause.value = reason
    persist()
  }

  /** Re-read the tokens another tab (or a bfcache restore) may have changed. */
  function syncFromStorage(): void {
    const access = readStorage(ACCESS_KEY)
    const refresh = readStorage(REFRESH_KEY)
    if (access !== accessToken.value || refresh !== refreshToken.value) {
      accessToken.value = access
      refreshToken.value = refresh
      user.value = readJson<UserOut>(USER_KEY)
    }
  }

  async function login(username: string, password: string): Promise<UserOut> {
    const pair = await authApi.login(username, password)
    setPair(pair)
    return pair.user
  }

  let inflight: Promise<boolean> | null = null

  async function runRefresh(): Promise<boolean> {
    // Another tab may have rotated the pair already: a refresh token is single-use (reuse ends
    // the whole login), so adopt its pair instead of presenting ours again.
    const storedRefresh = readStorage(REFRESH_KEY)
    if (storedRefresh && storedRefresh !== refreshToken.value) {
      syncFromStorage()
      return true
    }
    const token = refreshToken.value
    if (!token) return false
    try {
      setPair(await authApi.refresh(token))
      return true
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        forget(err.code)
        return false
      }
      throw err // offline or server trouble: the caller's request fails as transient
    }
  }

  /**
   * A fresh access token after `usedToken` was refused as expired. Single-flight: every
   * request that hits 401 while a refresh runs waits for that same refresh; a request that
   * carried a token already replaced just retries with the current one.
   */
  function refresh(usedToken?: string | null): Promise<boolean> {
    if (usedToken && accessToken.value && usedToken !== accessToken.value) return Promise.resolve(true)
    if (!inflight) {
      const locks = (typeof navigator !== 'undefined' && (navigator as { locks?: LockManagerLike }).locks) || null
      const run = locks ? locks.request(REFRESH_LOCK, runRefresh) : runRefresh()
      inflight = run.then(
        (ok) => {
          inflight = null
          return ok
        },
        (err: unknown) => {
          inflight = null
          throw err
        },
      )
    }
    return inflight
  }

  async function logout(): Promise<void> {
    const token = refreshToken.value
    try {
      if (accessToken.value) await authApi.logout(token)
    } catch {
      // Offline or already ended: forget the login locally all the same.
    }
    forget()
  }

  async function fetchMe(): Promise<UserOut> {
    const me = await authApi.me()
    setUser(me)
    return me
  }

  async function changePassword(current: string, next: string): Promise<void> {
    await authApi.changePassword(current, next)
    if (user.value) setUser({ ...user.value, must_change_password: false })
  }

  setAuthHooks({
    getAccessToken: () => accessToken.value,
    refresh: (usedToken) => refresh(usedToken),
    onAuthLost: (code) => forget(code),
    onPasswordChangeRequired: () => {
      if (user.value && !user.value.must_change_password) setUser({ ...user.value, must_change_password: true })
    },
  })

  return {
    accessToken,
    refreshToken,
    user,
    endedBecause,
    isLoggedIn,
    mustChangePassword,
    login,
    logout,
    refresh,
    fetchMe,
    changePassword,
    setUser,
    setPair,
    forget,
    syncFromStorage,
  }
})
