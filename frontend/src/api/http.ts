// The one place that talks to the server: JSON over fetch, Bearer auth, errors as ApiError,
// and a silent token refresh on 401 invalid_token (the access token expired).

export const API_BASE = '/api/v1'

/** An error answer ({"detail", "code"}) or a network failure (status 0, code "network_error"). */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: unknown
  /** Seconds from the Retry-After header, when the server sent one. */
  readonly retryAfter: number | null

  constructor(status: number, code: string, detail: unknown, retryAfter: number | null = null) {
    super(typeof detail === 'string' ? detail : code)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.detail = detail
    this.retryAfter = retryAfter
  }

  /** No answer from the server (offline, timeout): worth retrying later. */
  get isNetwork(): boolean {
    return this.status === 0
  }

  /** Worth retrying later as is: no answer, overload or a server fault. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 503 || this.status >= 500
  }
}

export interface AuthHooks {
  /** The current access token, or null when logged out. */
  getAccessToken(): string | null
  /**
   * Get a fresh access token after `usedToken` was refused as expired. Resolves true when a
   * (possibly already) fresh token is available, false when the login has ended. Must be
   * single-flight: concurrent callers share one refresh.
   */
  refresh(usedToken: string): Promise<boolean>
  /** The server said this login is over (revoked, unknown): forget it. */
  onAuthLost(code: string): void
  /** The server wants a new password before anything else (403 password_change_required). */
  onPasswordChangeRequired(): void
}

let hooks: AuthHooks | null = null

export function setAuthHooks(next: AuthHooks | null): void {
  hooks = next
}

export interface RequestOptions {
  body?: unknown
  /** Send the Bearer token (default true). */
  auth?: boolean
  /** Abort after this long without an answer (default 20 s; weak rural networks). */
  timeoutMs?: number
  /** Internal: whether a refresh-and-retry is still allowed. */
  retry?: boolean
}

const AUTH_LOST_CODES = new Set(['invalid_token', 'session_revoked', 'not_authenticated'])

async function toApiError(res: Response): Promise<ApiError> {
  let code = 'http_' + res.status
  let detail: unknown = res.statusText
  try {
    const body = (await res.json()) as { code?: unknown; detail?: unknown }
    if (body && typeof body.code === 'string') code = body.code
    if (body && body.detail !== undefined) detail = body.detail
  } catch {
    // not JSON: keep the status text
  }
  const header = res.headers.get('Retry-After')
  const retryAfter = header !== null && /^\d+$/.test(header.trim()) ? parseInt(header, 10) : null
  return new ApiError(res.status, code, detail, retryAfter)
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const useAuth = options.auth !== false
  const token = useAuth && hooks ? hooks.getAccessToken() : null
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = 'Bearer ' + token

  const controller = typeof AbortController !== 'undefined' ? new AbortController() : null
  const timer = controller ? setTimeout(() => controller.abort(), options.timeoutMs || 20000) : null
  let res: Response
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller ? controller.signal : undefined,
    })
  } catch (err) {
    throw new ApiError(0, 'network_error', err instanceof Error ? err.message : String(err))
  } finally {
    if (timer !== null) clearTimeout(timer)
  }

  if (res.status === 401 && useAuth && hooks) {
    const error = await toApiError(res)
    if (error.code === 'invalid_token' && token && options.retry !== false) {
      // Expired access token: refresh once (shared with every other request that hit this),
      // then repeat the request with the new token.
      if (await hooks.refresh(token)) {
        return request<T>(method, path, { ...options, retry: false })
      }
      throw error // the refresh was refused: the auth store has ended the login already
    }
    if (AUTH_LOST_CODES.has(error.code)) hooks.onAuthLost(error.code)
    throw error
  }
  if (!res.ok) {
    const error = await toApiError(res)
    if (error.status === 403 && error.code === 'password_change_required' && hooks) hooks.onPasswordChangeRequired()
    throw error
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('PATCH', path, { ...options, body }),
}
