import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import type { VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Router } from 'vue-router'
import { defineComponent } from 'vue'
import { i18n, setI18nLanguage } from '@/locales'
import ImportPreviewView from '@/views/admin/ImportPreviewView.vue'
import { ACCESS_KEY, REFRESH_KEY, USER_KEY } from '@/stores/auth'
import type { ImportIssue, ImportJob, PreviewItem, UserOut } from '@/api/types'
import { apiError, FakeServer, json, settle } from './fakeServer'

// Vant's stylesheets (imported by the component auto-import) mean nothing to Node: skip them.
vi.mock('vant/es/button/style/index', () => ({}))
vi.mock('vant/es/loading/style/index', () => ({}))
vi.mock('vant/es/popup/style/index', () => ({}))
vi.mock('vant/es/icon/style/index', () => ({}))
vi.mock('vant/es/toast/style/index', () => ({}))

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

function issue(row: number, code: string, message: string, messageEn: string, field: string): ImportIssue {
  return { code, message, message_en: messageEn, line: null, row, field, params: {} }
}

const outOfRange = issue(
  3,
  'answer_out_of_range',
  '答案中的 E 不对应任何选项（本题选项为 A 到 D）：请核对答案或补全选项。',
  'Answer letter E names no option (this question has A to D).',
  '答案',
)
const emptyStem = issue(4, 'empty_stem', '题干为空：请填写题目内容。', 'The question text is empty: fill it in.', '题干')

function bankJob(extra: Partial<ImportJob> = {}): ImportJob {
  return {
    id: 7,
    kind: 'bank',
    status: 'previewed',
    file_name: '坏题库.csv',
    file_sha256: 'x',
    file_size: 100,
    format: 'csv',
    encoding: 'utf-8',
    bank_id: null,
    bank_name: '新题库',
    default_area: '未分类',
    deactivate_missing: false,
    created_by: { id: 1, name: '管理员' },
    created_at: '2021-05-01T00:00:00Z',
    committed_at: null,
    committed_by: null,
    valid_only: false,
    counts: { total: 3, valid: 1, errors: 2, duplicates_in_file: 0, duplicates_in_bank: 0, to_import: 1 },
    errors: [
      outOfRange,
      emptyStem,
      { code: 'whole_file', message: '整个文件的问题', message_en: 'A whole-file problem', line: null, row: null, field: null, params: {} },
    ],
    warnings: [],
    duplicates: [],
    new_knowledge_areas: ['浏览器测试'],
    new_units: [],
    result: null,
    ...extra,
  }
}

const bankItems: PreviewItem[] = [
  { row: 2, line: null, status: 'valid', type: 'single', stem: '正确的题', options: ['甲', '乙'], answer: 'B', area: 'x', difficulty: 2, points: 1, issues: [] },
  { row: 3, line: null, status: 'error', type: '单选题', stem: '坏答案', options: [], answer: '', area: '', difficulty: null, points: null, issues: [outOfRange] },
  { row: 4, line: null, status: 'error', type: '单选题', stem: '', options: [], answer: '', area: '', difficulty: null, points: null, issues: [emptyStem] },
]

function server(job: ImportJob, items: PreviewItem[]): FakeServer {
  const fake = new FakeServer()
  fake.on('GET', /^\/imports\/7$/, () => json(job))
  fake.on('GET', /^\/imports\/7\/items/, (c) => {
    const status = /status=(\w+)/.exec(c.path)![1]
    const chosen = status === 'all' ? items : items.filter((i) => i.status === status)
    return json({ items: chosen, total: chosen.length })
  })
  fake.install()
  return fake
}

const Blank = defineComponent({ template: '<div />' })

async function mountPreview(pinia: Pinia): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/admin/imports/:importId', name: 'admin-import', component: ImportPreviewView },
      { path: '/admin/imports', name: 'admin-imports', component: Blank },
      { path: '/admin/bank', name: 'admin-bank', component: Blank },
      { path: '/admin/units', name: 'admin-units', component: Blank },
    ],
  })
  await router.push('/admin/imports/7')
  await router.isReady()
  const wrapper = mount(ImportPreviewView, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
  await settle()
  return { wrapper, router }
}

const byTestId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)

describe('import preview', () => {
  let pinia: Pinia
  let wrapper: VueWrapper | null = null

  beforeEach(async () => {
    localStorage.setItem(ACCESS_KEY, 'access-1')
    localStorage.setItem(REFRESH_KEY, 'refresh-1')
    localStorage.setItem(USER_KEY, JSON.stringify(admin))
    pinia = createPinia()
    setActivePinia(pinia)
    await setI18nLanguage('zh-CN')
  })

  afterEach(() => {
    if (wrapper) wrapper.unmount()
    wrapper = null
    document.body.innerHTML = ''
  })

  it('shows counts, highlights error rows with row, field and zh-CN message, and refuses "import all"', async () => {
    server(bankJob(), bankItems)
    wrapper = (await mountPreview(pinia)).wrapper
    expect(byTestId(wrapper, 'preview-count-errors').text()).toContain('2')
    expect(byTestId(wrapper, 'preview-count-to_import').text()).toContain('1')
    const bad = byTestId(wrapper, 'preview-item-3')
    expect(bad.attributes('data-status')).toBe('error')
    expect(bad.classes()).toContain('adm-row-error')
    expect(bad.text()).toContain('第 3 行 · 答案')
    expect(bad.text()).toContain(outOfRange.message)
    expect(byTestId(wrapper, 'preview-item-4').text()).toContain(emptyStem.message)
    expect(byTestId(wrapper, 'preview-item-2').classes()).not.toContain('adm-row-error')
    // Only the whole-file problem is listed above the table; row problems stay in their rows.
    const fileErrors = byTestId(wrapper, 'preview-file-errors')
    expect(fileErrors.text()).toContain('整个文件的问题')
    expect(fileErrors.text()).not.toContain(outOfRange.message)
    const all = byTestId(wrapper, 'preview-commit-all')
    expect(all.text()).toBe('全部导入')
    expect(all.attributes('disabled')).toBeDefined()
    expect(byTestId(wrapper, 'preview-commit-valid').text()).toBe('仅导入有效题目')
  })

  it('filters by status through the API', async () => {
    const fake = server(bankJob(), bankItems)
    wrapper = (await mountPreview(pinia)).wrapper
    await byTestId(wrapper, 'preview-filter-error').trigger('click')
    await settle()
    expect(fake.callsTo('GET', /^\/imports\/7\/items\?status=error&offset=0&limit=50$/)).toHaveLength(1)
    expect(byTestId(wrapper, 'preview-item-2').exists()).toBe(false)
    expect(byTestId(wrapper, 'preview-item-3').exists()).toBe(true)
  })

  it('imports the valid ones only after an explicit confirmation', async () => {
    const fake = server(bankJob(), bankItems)
    fake.on('POST', /^\/imports\/7\/commit$/, () =>
      json(bankJob({ status: 'committed', valid_only: true, bank_id: 5, result: { created: 1, skipped_duplicates: 0, areas_created: 1 } })),
    )
    wrapper = (await mountPreview(pinia)).wrapper
    await byTestId(wrapper, 'preview-commit-valid').trigger('click')
    await settle()
    expect(fake.callsTo('POST', /commit/)).toHaveLength(0) // nothing before the confirmation
    const cancel = document.querySelector('[data-testid="confirm-cancel"]') as HTMLElement
    cancel.click()
    await settle()
    expect(fake.callsTo('POST', /commit/)).toHaveLength(0)

    await byTestId(wrapper, 'preview-commit-valid').trigger('click')
    await settle()
    ;(document.querySelector('[data-testid="confirm-ok"]') as HTMLElement).click()
    await settle()
    const commits = fake.callsTo('POST', /^\/imports\/7\/commit$/)
    expect(commits).toHaveLength(1)
    expect(commits[0]!.body).toEqual({ valid_only: true })
    expect(byTestId(wrapper, 'preview-status').attributes('data-status')).toBe('committed')
    expect(byTestId(wrapper, 'preview-result').text()).toContain('新增题目 1 道')
    expect(byTestId(wrapper, 'preview-commit-all').exists()).toBe(false)
  })

  it('says why a commit was refused (409 codes) in the UI language', async () => {
    const fake = server(bankJob({ counts: { total: 1, valid: 1, errors: 0, to_import: 1 } }), bankItems.slice(0, 1))
    fake.on('POST', /^\/imports\/7\/commit$/, () => apiError(409, 'import_not_pending'))
    wrapper = (await mountPreview(pinia)).wrapper
    expect(byTestId(wrapper, 'preview-commit-valid').exists()).toBe(false)
    await byTestId(wrapper, 'preview-commit-all').trigger('click')
    await settle()
    ;(document.querySelector('[data-testid="confirm-ok"]') as HTMLElement).click()
    await settle()
    expect(fake.callsTo('POST', /commit/)[0]!.body).toEqual({ valid_only: false })
    expect(byTestId(wrapper, 'preview-action-error').text()).toBe('该导入已完成或已放弃，不能再次操作。')
  })

  it('shows issues in English when the UI is English', async () => {
    await setI18nLanguage('en')
    server(bankJob(), bankItems)
    wrapper = (await mountPreview(pinia)).wrapper
    const bad = byTestId(wrapper, 'preview-item-3')
    expect(bad.text()).toContain('Row 3 · Answer')
    expect(bad.text()).toContain(outOfRange.message_en)
    expect(bad.text()).not.toContain(outOfRange.message)
    expect(byTestId(wrapper, 'preview-commit-all').text()).toBe('Import all')
  })

  it('shows the initial passwords of a roster commit once, with a CSV download', async () => {
    const rosterJob = bankJob({
      kind: 'roster',
      bank_name: null,
      default_area: null,
      counts: { total: 2, valid: 2, errors: 0, new_units: 1, create: 2, update: 0, deactivate: 0, unchanged: 0 },
      errors: [],
      new_units: ['江川市/新派出所'],
    })
    const items: PreviewItem[] = [
      { row: 2, status: 'create', unit: '江川市/新派出所', police_number: '100001', name: '张三', phone: null, role: 'officer', active: true, changes: {}, issues: [] },
      { row: 3, status: 'create', unit: '江川市/新派出所', police_number: '100002', name: '李四', phone: null, role: 'officer', active: true, changes: {}, issues: [] },
    ]
    const fake = server(rosterJob, items)
    fake.on('POST', /^\/imports\/7\/commit$/, () =>
      json({
        ...rosterJob,
        status: 'committed',
        result: {
          units_created: 1,
          created: 2,
          updated: 0,
          deactivated: 0,
          initial_passwords: [
            { police_number: '100001', name: '张三', password: 'Ab3dEf6hJk8m' },
            { police_number: '100002', name: '李四', password: 'Pq2rSt4uVw5x' },
          ],
        },
      }),
    )
    wrapper = (await mountPreview(pinia)).wrapper
    expect(byTestId(wrapper, 'preview-item-2').text()).toContain('干警')
    expect(byTestId(wrapper, 'preview-new-names').text()).toContain('江川市/新派出所')
    await byTestId(wrapper, 'preview-commit-all').trigger('click')
    await settle()
    ;(document.querySelector('[data-testid="confirm-ok"]') as HTMLElement).click()
    await settle()
    expect(byTestId(wrapper, 'password-row-100001').text()).toContain('Ab3dEf6hJk8m')
    expect(byTestId(wrapper, 'password-row-100002').text()).toContain('Pq2rSt4uVw5x')
    expect(byTestId(wrapper, 'preview-passwords-csv').exists()).toBe(true)
    expect(byTestId(wrapper, 'preview-result').text()).toContain('新建单位 1 个')
  })
})
