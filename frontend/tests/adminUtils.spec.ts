import { describe, expect, it } from 'vitest'
import type { ImportIssue, QuestionOut, QuestionVersion, UnitOut } from '@/api/types'
import {
  answerText,
  countBlanks,
  fileLevelIssues,
  fitBlanks,
  formFromQuestion,
  formProblem,
  issueMessage,
  passwordsCsv,
  positionOf,
  removeOption,
  splitAlternatives,
  splitTags,
  updateFromForm,
  versionChanges,
  visibleUnits,
} from '@/utils/admin'
import { canManage, roleAllowed } from '@/utils/roles'

const issue = (extra: Partial<ImportIssue> = {}): ImportIssue => ({
  code: 'answer_out_of_range',
  message: '答案中的 E 不对应任何选项（本题选项为 A 到 D）：请核对答案或补全选项。',
  message_en: 'Answer letter E names no option (this question has A to D).',
  line: null,
  row: 3,
  field: 'answer',
  params: { letter: 'E', last: 'D' },
  ...extra,
})

function question(extra: Partial<QuestionOut>): QuestionOut {
  return {
    id: 5,
    bank_id: 1,
    knowledge_area_id: 9,
    knowledge_area_full_name: '警示教育/三个规定',
    type: 'single',
    stem: '题干',
    options: [
      { id: 'x1', text: '甲' },
      { id: 'x2', text: '乙' },
      { id: 'x3', text: '丙' },
    ],
    answer: 'x2',
    answer_indexes: 1,
    explanation: '解析',
    difficulty: 3,
    points: 2,
    status: 'active',
    version: 1,
    tags: ['a', 'b'],
    created_at: '2021-05-01T00:00:00Z',
    updated_at: '2021-05-01T00:00:00Z',
    ...extra,
  }
}

describe('import issues', () => {
  it('speak the UI language, falling back to zh-CN when no English was sent', () => {
    expect(issueMessage(issue(), 'zh-CN')).toMatch(/^答案中的 E/)
    expect(issueMessage(issue(), 'en')).toMatch(/^Answer letter E/)
    expect(issueMessage(issue({ message_en: '' }), 'en')).toMatch(/^答案中的 E/)
  })

  it('are placed by row (sheets) before line (text), and file-level ones have neither', () => {
    expect(positionOf({ row: 3, line: 7 })).toEqual({ kind: 'row', n: 3 })
    expect(positionOf({ row: null, line: 7 })).toEqual({ kind: 'line', n: 7 })
    expect(positionOf({ row: null, line: null })).toBeNull()
    const whole = issue({ code: 'missing_column', row: null, line: null, field: null })
    expect(fileLevelIssues([issue(), whole])).toEqual([whole])
    expect(fileLevelIssues(undefined)).toEqual([])
  })
})

describe('initial passwords CSV', () => {
  it('has a BOM for Excel, CRLF lines, quoted commas and quotes, and defused formulas', () => {
    const csv = passwordsCsv(
      [
        { police_number: '100001', name: '张三', password: 'Ab3dEf6hJk8m' },
        { police_number: '100002', name: '=HYPERLINK("x")', password: 'Pq2rSt4uVw5x' },
        { police_number: '100003', name: '李, "四"', password: 'Zz9yXx8wVv7u' },
      ],
      ['警号', '姓名', '初始密码'],
    )
    expect(csv.charCodeAt(0)).toBe(0xfeff)
    const lines = csv.slice(1).split('\r\n')
    expect(lines).toEqual([
      '警号,姓名,初始密码',
      '100001,张三,Ab3dEf6hJk8m',
      `100002,"'=HYPERLINK(""x"")",Pq2rSt4uVw5x`,
      '100003,"李, ""四""",Zz9yXx8wVv7u',
      '',
    ])
  })
})

describe('question form', () => {
  it('round-trips a single-choice question into authoring form (indexes, not option ids)', () => {
    const form = formFromQuestion(question({}))
    expect(form.single).toBe(1)
    expect(form.tags).toBe('a, b')
    expect(formProblem(form)).toBeNull()
    expect(updateFromForm({ ...form, explanation: '  新解析 ' })).toEqual({
      type: 'single',
      stem: '题干',
      options: ['甲', '乙', '丙'],
      answer: 1,
      explanation: '新解析',
      difficulty: 3,
      points: 2,
      tags: ['a', 'b'],
      knowledge_area_id: 9,
    })
  })

  it('sends multiple-choice answers sorted and true/false as a boolean', () => {
    const multiple = formFromQuestion(question({ type: 'multiple', answer: ['x3', 'x1'], answer_indexes: [0, 2] }))
    expect(updateFromForm({ ...multiple, multiple: [2, 0] }).answer).toEqual([0, 2])
    const tf = formFromQuestion(question({ type: 'true_false', options: [], answer: false, answer_indexes: null }))
    expect(tf.trueFalse).toBe(false)
    const body = updateFromForm(tf)
    expect(body.answer).toBe(false)
    expect(body.options).toEqual([])
  })

  it('fits one answer field per ____ blank and splits alternatives on ; and ；', () => {
    expect(countBlanks('甲____乙____')).toBe(2)
    expect(countBlanks('________')).toBe(2) // as the server counts: non-overlapping
    expect(fitBlanks(['a'], '____和____')).toEqual(['a', ''])
    expect(fitBlanks(['a', 'b'], '只有____')).toEqual(['a'])
    expect(splitAlternatives(' 逢问必录；逢问必录制度 ; ')).toEqual(['逢问必录', '逢问必录制度'])
    const form = formFromQuestion(
      question({ type: 'fill_blank', stem: '____与____', options: [], answer: [['甲', '乙'], ['丙']], answer_indexes: null }),
    )
    expect(form.blanks).toEqual(['甲; 乙', '丙'])
    expect(updateFromForm(form).answer).toEqual([['甲', '乙'], ['丙']])
    expect(formProblem({ ...form, blanks: ['甲', ' ; '] })).toBe('blankRequired')
    expect(formProblem({ ...form, stem: '没有空' })).toBe('noBlanks')
  })

  it('names what is missing before sending', () => {
    const form = formFromQuestion(question({}))
    expect(formProblem({ ...form, stem: '  ' })).toBe('stemRequired')
    expect(formProblem({ ...form, single: null })).toBe('answerRequired')
    expect(formProblem({ ...form, options: ['甲', ''] })).toBe('optionEmpty')
    expect(formProblem({ ...form, type: 'multiple', multiple: [1] })).toBe('multipleNeedsTwo')
    expect(formProblem({ ...form, points: 0 })).toBe('pointsInvalid')
    expect(formProblem({ ...form, points: 1.5 })).toBe('pointsInvalid')
  })

  it('keeps the chosen answers on the same options when one is removed', () => {
    const form = { ...formFromQuestion(question({})), type: 'multiple' as const, multiple: [0, 2], single: 2 }
    const next = removeOption(form, 1)
    expect(next.options).toEqual(['甲', '丙'])
    expect(next.multiple).toEqual([0, 1])
    expect(next.single).toBe(1)
    expect(removeOption(form, 2).single).toBeNull()
  })

  it('splits tags on Chinese and Western separators without repeats', () => {
    expect(splitTags('三个规定，警示教育, 三个规定;；')).toEqual(['三个规定', '警示教育'])
  })

  it('shows answers of any shape as people write them', () => {
    const words = { true: '正确', false: '错误' }
    const options = [{ id: 'x1' }, { id: 'x2' }, { id: 'x3' }]
    expect(answerText('single', 'x2', options, words)).toBe('B')
    expect(answerText('multiple', ['x1', 'x3'], options, words)).toBe('AC')
    expect(answerText('multiple', [0, 2], ['甲', '乙', '丙'], words)).toBe('AC')
    expect(answerText('true_false', true, [], words)).toBe('正确')
    expect(answerText('fill_blank', [['a', 'b'], ['c']], [], words)).toBe('a；b | c')
  })
})

describe('question versions', () => {
  const v1: QuestionVersion = {
    version: 1,
    current: false,
    made_at: '2021-05-01T00:00:00Z',
    knowledge_area_full_name: '警示教育',
    type: 'single',
    stem: '题干',
    options: [
      { id: 'a', text: '甲' },
      { id: 'b', text: '乙' },
    ],
    answer: 'b',
    explanation: '旧解析',
    difficulty: 2,
    points: 1,
    tags: [],
  }

  it('names the fields an edit changed, comparing answers by letter rather than option id', () => {
    const v2: QuestionVersion = { ...v1, version: 2, current: true, explanation: '新解析', options: [{ id: 'c', text: '甲' }, { id: 'd', text: '乙' }], answer: 'd' }
    expect(versionChanges(v2, v1)).toEqual(['explanation'])
    const v3: QuestionVersion = { ...v2, version: 3, answer: 'c', points: 2, knowledge_area_full_name: '警示教育/三个规定' }
    expect(versionChanges(v3, v2)).toEqual(['answer', 'points', 'area'])
    expect(versionChanges(v1, v1)).toEqual([])
  })
})

describe('unit tree', () => {
  const unit = (id: number, parent: number | null, depth: number, name: string): UnitOut => ({
    id,
    parent_id: parent,
    code: 'U' + id,
    name,
    kind: 'other',
    depth,
    path: '',
    sort_order: 0,
    officer_count: 0,
    subtree_officer_count: 0,
  })
  const units = [
    unit(1, null, 0, '江川市'),
    unit(2, 1, 1, '东山县'),
    unit(3, 2, 2, '东山县公安局'),
    unit(4, 1, 1, '西河区'),
    unit(5, 4, 2, '西河区人民法院'),
  ]

  it('hides everything under a collapsed unit', () => {
    expect(visibleUnits(units, new Set([2]), '').map((u) => u.id)).toEqual([1, 2, 4, 5])
    expect(visibleUnits(units, new Set([1]), '').map((u) => u.id)).toEqual([1])
  })

  it('shows matches with their ancestors whatever is collapsed', () => {
    expect(visibleUnits(units, new Set([1, 2, 4]), '公安').map((u) => u.id)).toEqual([1, 2, 3])
    expect(visibleUnits(units, new Set(), 'u5').map((u) => u.id)).toEqual([1, 4, 5])
  })
})

describe('roles', () => {
  it('lets administrators and unit administrators into the admin area, nobody else', () => {
    expect(canManage('admin')).toBe(true)
    expect(canManage('unit_admin')).toBe(true)
    expect(canManage('officer')).toBe(false)
    expect(canManage('inspector')).toBe(false)
    expect(canManage(null)).toBe(false)
    expect(roleAllowed('unit_admin', ['admin'])).toBe(false)
    expect(roleAllowed('officer', undefined)).toBe(true)
  })
})
