// Typed calls of the admin area (loaded with the admin pages only, never in the officer's bundle).
// JSON goes through `api`; file uploads (multipart) and downloads (blobs) need their own fetch,
// with the same Bearer token and the same one-time refresh of an expired token.
import { API_BASE, ApiError, api } from './http'
import { useAuthStore } from '@/stores/auth'
import type {
  AreaOut,
  BankOut,
  ExportFormat,
  ImportJob,
  ImportJobPage,
  ImportKind,
  ItemStatusFilter,
  PreviewItemPage,
  QuestionFilters,
  QuestionOut,
  QuestionPage,
  QuestionUpdate,
  QuestionVersion,
  UnitOut,
  UserPage,
} from './types'

type QueryValue = string | number | boolean | null | undefined

/** "?a=1&b=x" from the given values, leaving out null, undefined and empty strings. */
export function toQuery(params: Record<string, QueryValue>): string {
  const parts: string[] = []
  for (const key of Object.keys(params)) {
    const value = params[key]
    if (value === null || value === undefined) continue
    const text = String(value).trim()
    if (text === '') continue
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(text))
  }
  return parts.length ? '?' + parts.join('&') : ''
}

/** An error answer that also carries an English message (import file rejections). */
export class AdminApiError extends ApiError {
  readonly messageEn: string | null

  constructor(status: number, code: string, detail: unknown, messageEn: string | null) {
    super(status, code, detail)
    this.messageEn = messageEn
  }
}

async function toError(res: Response): Promise<AdminApiError> {
  let code = 'http_' + res.status
  let detail: unknown = res.statusText
  let messageEn: string | null = null
  try {
    const body = (await res.json()) as { code?: unknown; detail?: unknown; message_en?: unknown }
    if (body && typeof body.code === 'string') code = body.code
    if (body && body.detail !== undefined) detail = body.detail
    if (body && typeof body.message_en === 'string') messageEn = body.message_en
  } catch {
    // not JSON: keep the status text
  }
  return new AdminApiError(res.status, code, detail, messageEn)
}

const AUTH_LOST_CODES = ['invalid_token', 'session_revoked', 'not_authenticated']

/** A fetch with the Bearer token and one refresh-and-retry on an expired token; the raw Response. */
async function authorizedFetch(method: string, path: string, body?: FormData, retry = true): Promise<Response> {
  const auth = useAuthStore()
  const token = auth.accessToken
  const headers: Record<string, string> = {}
  if (token) headers.Authorization = 'Bearer ' + token
  let res: Response
  try {
    // No timeout: a large upload on a slow line may take minutes, and the preview is worth the wait.
    res = await fetch(API_BASE + path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' })
  } catch (err) {
    throw new AdminApiError(0, 'network_error', err instanceof Error ? err.message : String(err), null)
  }
  if (res.status === 401) {
    const error = await toError(res)
    if (error.code === 'invalid_token' && token && retry) {
      if (await auth.refresh(token)) return authorizedFetch(method, path, body, false)
      throw error
    }
    if (AUTH_LOST_CODES.indexOf(error.code) >= 0) auth.forget(error.code)
    throw error
  }
  if (!res.ok) {
    const error = await toError(res)
    if (error.status === 403 && error.code === 'password_change_required' && auth.user) {
      auth.setUser({ ...auth.user, must_change_password: true })
    }
    throw error
  }
  return res
}

async function upload<T>(path: string, form: FormData): Promise<T> {
  const res = await authorizedFetch('POST', path, form)
  return (await res.json()) as T
}

/** The file name a Content-Disposition header gives (RFC 5987 `filename*` first), else `fallback`. */
export function fileNameFromDisposition(header: string | null, fallback: string): string {
  if (!header) return fallback
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header)
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim().replace(/^"|"$/g, ''))
    } catch {
      // malformed escapes: try the plain name
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(header)
  if (plain) {
    const name = (plain[2] !== undefined ? plain[2] : plain[1]!).trim()
    if (name) return name
  }
  return fallback
}

export interface Download {
  blob: Blob
  fileName: string
}

export async function download(path: string, fallbackName: string): Promise<Download> {
  const res = await authorizedFetch('GET', path)
  const fileName = fileNameFromDisposition(res.headers.get('Content-Disposition'), fallbackName)
  return { blob: await res.blob(), fileName }
}

/** Hand a downloaded file to the browser's "save" (an object URL on a temporary link). */
export function saveDownload(file: Download): void {
  const url = URL.createObjectURL(file.blob)
  const link = document.createElement('a')
  link.href = url
  link.download = file.fileName
  link.rel = 'noopener'
  document.body.appendChild(link)
  link.click()
  document.body.removeChild(link)
  // Revoked later: some engines read the URL after click() has returned.
  setTimeout(() => URL.revokeObjectURL(url), 60000)
}

export const bankAdminApi = {
  banks: () => api.get<BankOut[]>('/banks'),
  areas: () => api.get<AreaOut[]>('/knowledge-areas'),
  questions: (filters: QuestionFilters, limit: number, offset: number) =>
    api.get<QuestionPage>('/questions' + toQuery({ ...filters, limit, offset })),
  question: (id: number) => api.get<QuestionOut>(`/questions/${id}`),
  updateQuestion: (id: number, body: QuestionUpdate) => api.patch<QuestionOut>(`/questions/${id}`, body),
  versions: (id: number) => api.get<QuestionVersion[]>(`/questions/${id}/versions`),
  exportBank: (bankId: number, format: ExportFormat, filters: QuestionFilters) =>
    download(
      `/banks/${bankId}/export` +
        toQuery({
          format,
          knowledge_area_id: filters.knowledge_area_id,
          type: filters.type,
          difficulty: filters.difficulty,
          q: filters.q,
          status: filters.status,
        }),
      `bank-${bankId}.${format}`,
    ),
}

export const unitAdminApi = {
  units: () => api.get<UnitOut[]>('/units'),
  users: (unitId: number, limit: number, offset: number) =>
    api.get<UserPage>('/users' + toQuery({ unit_id: unitId, limit, offset })),
}

export interface BankTarget {
  bankId: number | null
  bankName: string
}

export const importsApi = {
  uploadBank: (file: File, target: BankTarget, defaultArea: string) => {
    const form = new FormData()
    form.append('file', file, file.name)
    if (target.bankId !== null) form.append('bank_id', String(target.bankId))
    else form.append('bank_name', target.bankName.trim())
    if (defaultArea.trim()) form.append('default_area', defaultArea.trim())
    return upload<ImportJob>('/imports/bank', form)
  },
  uploadRoster: (file: File, deactivateMissing: boolean) => {
    const form = new FormData()
    form.append('file', file, file.name)
    form.append('deactivate_missing', deactivateMissing ? 'true' : 'false')
    return upload<ImportJob>('/imports/roster', form)
  },
  list: (kind: ImportKind | null, limit: number, offset: number) =>
    api.get<ImportJobPage>('/imports' + toQuery({ kind, limit, offset })),
  job: (id: number) => api.get<ImportJob>(`/imports/${id}`),
  items: (id: number, status: ItemStatusFilter, offset: number, limit: number) =>
    api.get<PreviewItemPage>(`/imports/${id}/items` + toQuery({ status, offset, limit })),
  commit: (id: number, validOnly: boolean) =>
    api.post<ImportJob>(`/imports/${id}/commit`, { valid_only: validOnly }, { timeoutMs: 120000 }),
  discard: (id: number) => api.post<ImportJob>(`/imports/${id}/discard`),
  template: (kind: ImportKind) => download(`/imports/templates/${kind}.xlsx`, kind + '-template.xlsx'),
}
