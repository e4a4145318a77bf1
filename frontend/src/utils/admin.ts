// Pure helpers of the admin pages: issue texts, the question form in authoring form, the unit
// tree and the initial-password CSV. No I/O, so vitest checks them directly.
import type {
  AuthoringAnswer,
  ImportIssue,
  InitialPassword,
  Language,
  PreviewItem,
  QuestionOut,
  QuestionType,
  QuestionUpdate,
  QuestionVersion,
  UnitOut,
} from '@/api/types'

export const LETTERS = 'ABCDEFGH'
export const MAX_OPTIONS = 8
export const MIN_OPTIONS = 2
/** How a blank is marked in a stem (app/bank/validation.py BLANK). */
export const BLANK = '____'
export const QUESTION_TYPES: QuestionType[] = ['single', 'multiple', 'true_false', 'fill_blank']
export const DIFFICULTIES = [1, 2, 3, 4, 5]

// ---------------------------------------------------------------- import previews

/** The issue's message in the UI language (English falls back to zh-CN when the server sent none). */
export function issueMessage(issue: ImportIssue, language: Language | string): string {
  if (language === 'en' && issue.message_en) return issue.message_en
  return issue.message
}

/** Where an item or issue is in the file: a sheet row or a text line (null when neither is known). */
export interface Position {
  kind: 'row' | 'line'
  n: number
}

export function positionOf(where: { row?: number | null; line?: number | null }): Position | null {
  if (typeof where.row === 'number') return { kind: 'row', n: where.row }
  if (typeof where.line === 'number') return { kind: 'line', n: where.line }
  return null
}

/** A stable key for a preview item (its row or line), for test ids and list keys. */
export function itemKey(item: PreviewItem, index: number): string {
  const at = positionOf(item)
  return at ? String(at.n) : 'i' + index
}

/** Issues not tied to any row or line: they concern the whole file (headers, sheets ...). */
export function fileLevelIssues(issues: ImportIssue[] | undefined): ImportIssue[] {
  return (issues || []).filter((i) => positionOf(i) === null)
}

// ---------------------------------------------------------------- initial passwords as CSV

function csvCell(value: string): string {
  // A cell Excel would run as a formula is written as text (leading apostrophe).
  const text = /^[=+\-@\t\r]/.test(value) ? "'" + value : value
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text
}

/** The one-time initial passwords as CSV for Excel: UTF-8 with BOM, CRLF line ends. */
export function passwordsCsv(rows: InitialPassword[], headers: [string, string, string]): string {
  const lines = [headers.map(csvCell).join(',')]
  for (const row of rows) lines.push([row.police_number, row.name, row.password].map(csvCell).join(','))
  return '\ufeff' + lines.join('\r\n') + '\r\n'
}

// ---------------------------------------------------------------- the question form

export interface QuestionForm {
  type: QuestionType
  stem: string
  options: string[]
  /** single: the chosen option index */
  single: number | null
  /** multiple: the chosen option indexes */
  multiple: number[]
  trueFalse: boolean | null
  /** fill_blank: accepted texts of each blank, written "text;other text" */
  blanks: string[]
  explanation: string
  difficulty: number
  points: number
  areaId: number | null
  /** tags written "a, b" */
  tags: string
}

export function countBlanks(stem: string): number {
  return stem.split(BLANK).length - 1
}

/** Accepted texts of one blank as typed ("a；b; c") → ["a", "b", "c"]. */
export function splitAlternatives(text: string): string[] {
  return text
    .split(/[;；]/)
    .map((t) => t.trim())
    .filter((t) => t !== '')
}

export function splitTags(text: string): string[] {
  const seen: string[] = []
  for (const tag of text.split(/[,，;；、\n]/)) {
    const clean = tag.trim()
    if (clean && seen.indexOf(clean) < 0) seen.push(clean)
  }
  return seen
}

/** The form filled from a stored question. */
export function formFromQuestion(q: QuestionOut): QuestionForm {
  const indexes = q.answer_indexes
  return {
    type: q.type,
    stem: q.stem,
    options: q.options.map((o) => o.text),
    single: q.type === 'single' && typeof indexes === 'number' ? indexes : null,
    multiple: q.type === 'multiple' && Array.isArray(indexes) ? indexes.slice() : [],
    trueFalse: q.type === 'true_false' && typeof q.answer === 'boolean' ? q.answer : null,
    blanks:
      q.type === 'fill_blank' && Array.isArray(q.answer)
        ? (q.answer as unknown[]).map((b) => (Array.isArray(b) ? b.map(String).join('; ') : String(b)))
        : [],
    explanation: q.explanation,
    difficulty: q.difficulty,
    points: q.points,
    areaId: q.knowledge_area_id,
    tags: q.tags.join(', '),
  }
}

/** Blanks resized to the stem's blank count, keeping what was typed. */
export function fitBlanks(blanks: string[], stem: string): string[] {
  const wanted = countBlanks(stem)
  const next = blanks.slice(0, wanted)
  while (next.length < wanted) next.push('')
  return next
}

/** The locale key of what is missing before the form can be sent, else null. */
export function formProblem(form: QuestionForm): string | null {
  if (!form.stem.trim()) return 'stemRequired'
  if (form.areaId === null) return 'areaRequired'
  if (form.type === 'single' || form.type === 'multiple') {
    const filled = form.options.filter((o) => o.trim() !== '')
    if (filled.length !== form.options.length) return 'optionEmpty'
    if (form.options.length < MIN_OPTIONS) return 'optionsTooFew'
    if (form.type === 'single' && (form.single === null || form.single >= form.options.length)) return 'answerRequired'
    if (form.type === 'multiple' && form.multiple.filter((i) => i < form.options.length).length < 2) {
      return 'multipleNeedsTwo'
    }
  }
  if (form.type === 'true_false' && form.trueFalse === null) return 'answerRequired'
  if (form.type === 'fill_blank') {
    if (countBlanks(form.stem) === 0) return 'noBlanks'
    if (form.blanks.length !== countBlanks(form.stem) || form.blanks.some((b) => splitAlternatives(b).length === 0)) {
      return 'blankRequired'
    }
  }
  if (!(form.points >= 1 && form.points <= 100 && Math.floor(form.points) === form.points)) return 'pointsInvalid'
  return null
}

/** The PATCH body: every authoring field, the answer in authoring form (indexes, not option ids). */
export function updateFromForm(form: QuestionForm): QuestionUpdate {
  const choice = form.type === 'single' || form.type === 'multiple'
  let answer: AuthoringAnswer
  if (form.type === 'single') answer = form.single === null ? -1 : form.single
  else if (form.type === 'multiple') answer = form.multiple.filter((i) => i < form.options.length).sort((a, b) => a - b)
  else if (form.type === 'true_false') answer = form.trueFalse === true
  else answer = form.blanks.map(splitAlternatives)
  const body: QuestionUpdate = {
    type: form.type,
    stem: form.stem.trim(),
    options: choice ? form.options.map((o) => o.trim()) : [],
    answer,
    explanation: form.explanation.trim(),
    difficulty: form.difficulty,
    points: form.points,
    tags: splitTags(form.tags),
  }
  if (form.areaId !== null) body.knowledge_area_id = form.areaId
  return body
}

/** Remove option `index`, keeping the chosen answers on the same options. */
export function removeOption(form: QuestionForm, index: number): QuestionForm {
  const shift = (i: number) => (i > index ? i - 1 : i)
  return {
    ...form,
    options: form.options.filter((_, i) => i !== index),
    single: form.single === null || form.single === index ? null : shift(form.single),
    multiple: form.multiple.filter((i) => i !== index).map(shift),
  }
}

/** An answer of any stored or version shape as people read it: "B", "AC", "正确", "a；b | c". */
export function answerText(
  type: string,
  answer: unknown,
  options: { id?: string; text?: string }[] | string[],
  words: { true: string; false: string },
): string {
  const ids = (options as unknown[]).map((o) =>
    typeof o === 'object' && o !== null ? (o as { id?: string }).id : undefined,
  )
  const letter = (value: unknown): string => {
    if (typeof value === 'number') return LETTERS.charAt(value) || String(value)
    const at = ids.indexOf(value as string)
    return at >= 0 ? LETTERS.charAt(at) : String(value)
  }
  if (type === 'true_false' && typeof answer === 'boolean') return answer ? words.true : words.false
  if (type === 'fill_blank' && Array.isArray(answer)) {
    return answer.map((b) => (Array.isArray(b) ? b.join('；') : String(b))).join(' | ')
  }
  if (Array.isArray(answer)) return answer.map(letter).join('')
  if (answer === null || answer === undefined) return ''
  return letter(answer)
}

export function optionText(option: string | { text?: string }): string {
  return typeof option === 'string' ? option : option.text || ''
}

// ---------------------------------------------------------------- the unit tree

/** Units (in tree order, as GET /units answers) that are shown: every ancestor expanded. With a
 * filter, the matching units and their ancestors, whatever is collapsed. */
export function visibleUnits(units: UnitOut[], collapsed: Set<number>, filter: string): UnitOut[] {
  const byId = new Map<number, UnitOut>()
  for (const u of units) byId.set(u.id, u)
  const needle = filter.trim().toLowerCase()
  if (needle) {
    const keep = new Set<number>()
    for (const u of units) {
      if (u.name.toLowerCase().indexOf(needle) < 0 && u.code.toLowerCase().indexOf(needle) < 0) continue
      let at: UnitOut | undefined = u
      while (at && !keep.has(at.id)) {
        keep.add(at.id)
        at = at.parent_id !== null ? byId.get(at.parent_id) : undefined
      }
    }
    return units.filter((u) => keep.has(u.id))
  }
  return units.filter((u) => {
    let parent = u.parent_id !== null ? byId.get(u.parent_id) : undefined
    while (parent) {
      if (collapsed.has(parent.id)) return false
      parent = parent.parent_id !== null ? byId.get(parent.parent_id) : undefined
    }
    return true
  })
}

/** Ids of units that have sub-units. */
export function unitsWithChildren(units: UnitOut[]): Set<number> {
  const parents = new Set<number>()
  for (const u of units) if (u.parent_id !== null) parents.add(u.parent_id)
  return parents
}

/** The depth of a unit relative to the shallowest unit in the list (a unit admin's tree starts deeper). */
export function relativeDepth(units: UnitOut[]): (u: UnitOut) => number {
  let min = Infinity
  for (const u of units) min = Math.min(min, u.depth)
  return (u) => u.depth - (min === Infinity ? 0 : min)
}

// ---------------------------------------------------------------- question versions

/** What one version changed against the one before, as field keys (admin.fields.*). */
export function versionChanges(newer: QuestionVersion, older: QuestionVersion): string[] {
  const words = { true: 'T', false: 'F' }
  const texts = (v: QuestionVersion) => v.options.map(optionText).join('\n')
  const checks: [string, (v: QuestionVersion) => string][] = [
    ['type', (v) => v.type],
    ['stem', (v) => v.stem],
    ['options', texts],
    // By letters (or texts): option ids may differ between versions for the same choice.
    ['answer', (v) => answerText(v.type, v.answer, v.options as { id?: string }[], words)],
    ['explanation', (v) => v.explanation],
    ['difficulty', (v) => String(v.difficulty)],
    ['points', (v) => String(v.points)],
    ['tags', (v) => v.tags.join('\n')],
    ['area', (v) => v.knowledge_area_full_name || ''],
  ]
  return checks.filter(([, read]) => read(newer) !== read(older)).map(([field]) => field)
}
