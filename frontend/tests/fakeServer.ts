// A tiny in-test stand-in for the API: routes by method and path, records every call.
import { vi } from 'vitest'

export interface Call {
  method: string
  path: string
  body: unknown
  authorization: string | null
}

export type Handler = (call: Call) => Response | Promise<Response>

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

export function apiError(status: number, code: string, headers: Record<string, string> = {}): Response {
  return json({ detail: code, code }, status, headers)
}

export class FakeServer {
  calls: Call[] = []
  private routes: { method: string; pattern: RegExp; handler: Handler }[] = []
  /** When set, every request fails like a dropped connection. */
  offline = false

  on(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.unshift({ method, pattern, handler })
    return this
  }

  callsTo(method: string, pattern: RegExp): Call[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path))
  }

  install(): void {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: string, init: RequestInit = {}) => {
        const url = String(input)
        const path = url.replace(/^\/api\/v1/, '')
        const headers = (init.headers || {}) as Record<string, string>
        const call: Call = {
          method: (init.method || 'GET').toUpperCase(),
          path,
          body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
          authorization: headers.Authorization || null,
        }
        this.calls.push(call)
        if (this.offline) throw new TypeError('Failed to fetch')
        const route = this.routes.find((r) => r.method === call.method && r.pattern.test(path))
        if (!route) return apiError(404, 'not_found')
        return route.handler(call)
      }),
    )
  }
}

/** Resolve pending promise callbacks (fetch mocks, IndexedDB) a few times over. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((r) => setTimeout(r, 0))
}
