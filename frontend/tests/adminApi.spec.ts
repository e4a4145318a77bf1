import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { AdminApiError, bankAdminApi, fileNameFromDisposition, importsApi, toQuery } from '@/api/admin'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY, useAuthStore } from '@/stores/auth'
import type { UserOut } from '@/api/types'

const admin: UserOut = {
  id: 1,
  username: 'admin',
  police_number: null,
  name: '管理员',
  role: 'admin',
  unit_id: 1,
  unit_name: '江川市',
  must_change_password: false,
  language: 'zh-CN',
}

interface Seen {
  method: string
  url: string
  authorization: string | null
  body: unknown
}

/** A fetch stub that records each call and answers with the next of `answers`. */
function stubFetch(answers: (() => Response)[]): Seen[] {
  const seen: Seen[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const headers = (init.headers || {}) as Record<string, string>
      seen.push({ method: init.method || 'GET', url, authorization: headers.Authorization || null, body: init.body })
      const next = answers.shift()
      if (!next) throw new Error('unexpected request ' + url)
      return next()
    }),
  )
  return seen
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })

describe('admin api helpers', () => {
  it('builds query strings without empty filters', () => {
    expect(toQuery({ bank_id: 3, q: ' 三个规定 ', type: null, difficulty: undefined, status: '' })).toBe(
      '?bank_id=3&q=%E4%B8%89%E4%B8%AA%E8%A7%84%E5%AE%9A',
    )
    expect(toQuery({ a: null })).toBe('')
    expect(toQuery({ valid_only: false, offset: 0 })).toBe('?valid_only=false&offset=0')
  })

  it('reads the file name of a download, the UTF-8 form first', () => {
    const header = `attachment; filename="export.xlsx"; filename*=UTF-8''%E9%A2%98%E5%BA%93%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx`
    expect(fileNameFromDisposition(header, 'x')).toBe('题库导入模板.xlsx')
    expect(fileNameFromDisposition('attachment; filename="plain.json"', 'x')).toBe('plain.json')
    expect(fileNameFromDisposition('attachment; filename=bare.gift', 'x')).toBe('bare.gift')
    expect(fileNameFromDisposition(null, 'fallback.xlsx')).toBe('fallback.xlsx')
    expect(fileNameFromDisposition(`attachment; filename*=UTF-8''%E0%A4%A`, 'broken.xlsx')).toBe('broken.xlsx')
  })
})

describe('uploads and downloads', () => {
  beforeEach(() => {
    localStorage.setItem(ACCESS_KEY, 'access-1')
    localStorage.setItem(REFRESH_KEY, 'refresh-1')
    localStorage.setItem(USER_KEY, JSON.stringify(admin))
    setActivePinia(createPinia())
  })

  it('sends the file, the bank and the default area as multipart with the Bearer token', async () => {
    const seen = stubFetch([() => json({ id: 9, kind: 'bank' }, 201)])
    const file = new File(['题型,题干'], '题库.csv', { type: 'text/csv' })
    const job = await importsApi.uploadBank(file, { bankId: null, bankName: ' 新题库 ' }, '警示教育/三个规定')
    expect(job.id).toBe(9)
    expect(seen[0]!.url).toBe('/api/v1/imports/bank')
    expect(seen[0]!.authorization).toBe('Bearer access-1')
    const form = seen[0]!.body as FormData
    expect((form.get('file') as File).name).toBe('题库.csv')
    expect(form.get('bank_name')).toBe('新题库')
    expect(form.get('bank_id')).toBeNull()
    expect(form.get('default_area')).toBe('警示教育/三个规定')

    const seenAgain = stubFetch([() => json({ id: 10, kind: 'bank' }, 201)])
    await importsApi.uploadBank(file, { bankId: 4, bankName: 'ignored' }, '')
    const second = seenAgain[0]!.body as FormData
    expect(second.get('bank_id')).toBe('4')
    expect(second.get('bank_name')).toBeNull()
    expect(second.get('default_area')).toBeNull()
  })

  it('refreshes an expired token once and repeats the upload', async () => {
    const seen = stubFetch([
      () => json({ detail: 'expired', code: 'invalid_token' }, 401),
      () =>
        json({ access_token: 'access-2', refresh_token: 'refresh-2', token_type: 'bearer', expires_in: 900, user: admin }),
      () => json({ id: 11, kind: 'roster' }, 201),
    ])
    const job = await importsApi.uploadRoster(new File(['单位'], '花名册.csv'), true)
    expect(job.id).toBe(11)
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/imports/roster', '/api/v1/auth/refresh', '/api/v1/imports/roster'])
    expect(seen[2]!.authorization).toBe('Bearer access-2')
    expect((seen[2]!.body as FormData).get('deactivate_missing')).toBe('true')
    expect(useAuthStore().accessToken).toBe('access-2')
  })

  it('keeps both languages of a refused file', async () => {
    stubFetch([
      () =>
        json(
          { detail: '文件是空的：请检查是否选错了文件。', code: 'empty_file', message_en: 'The file is empty.' },
          422,
        ),
    ])
    const err = await importsApi.uploadBank(new File([''], 'x.csv'), { bankId: 1, bankName: '' }, '').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AdminApiError)
    expect((err as AdminApiError).code).toBe('empty_file')
    expect((err as AdminApiError).detail).toBe('文件是空的：请检查是否选错了文件。')
    expect((err as AdminApiError).messageEn).toBe('The file is empty.')
  })

  it('ends the login when the server says it is over', async () => {
    stubFetch([() => json({ detail: 'revoked', code: 'session_revoked' }, 401)])
    const err = await importsApi.template('bank').catch((e: unknown) => e)
    expect((err as AdminApiError).code).toBe('session_revoked')
    expect(useAuthStore().isLoggedIn).toBe(false)
  })

  it('downloads an export as a blob with the current filters and the server-given name', async () => {
    const seen = stubFetch([
      () =>
        new Response('{"questions": []}', {
          status: 200,
          headers: { 'Content-Disposition': `attachment; filename="export.json"; filename*=UTF-8''%E9%A2%98%E5%BA%93.json` },
        }),
    ])
    const file = await bankAdminApi.exportBank(3, 'json', {
      bank_id: 3,
      knowledge_area_id: 7,
      type: 'multiple',
      difficulty: null,
      status: 'active',
      q: '规定',
    })
    expect(seen[0]!.url).toBe('/api/v1/banks/3/export?format=json&knowledge_area_id=7&type=multiple&q=%E8%A7%84%E5%AE%9A&status=active')
    expect(seen[0]!.authorization).toBe('Bearer access-1')
    expect(file.fileName).toBe('题库.json')
    expect(await file.blob.text()).toBe('{"questions": []}')
  })
})
