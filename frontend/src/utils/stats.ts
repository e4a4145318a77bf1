// Pure helpers of the statistics pages: number formats, the selection in the address, the unit
// trail for the breadcrumb, and the rows behind every table and chart. No I/O, so vitest checks them.
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import type { UnitOut } from '@/api/types'
import type {
  AreaCell,
  AreaFigures,
  AttemptChoice,
  Band,
  Evaluation,
  EvaluationIn,
  ItemFlag,
  Selection,
  UnitFigures,
  UnitReport,
} from '@/api/stats'

export const ATTEMPT_CHOICES: AttemptChoice[] = ['first', 'best', 'last']
/** Score bands in the server's order (UnitFigures.bands keys). */
export const BANDS: Band[] = ['0-59', '60-69', '70-79', '80-89', '90-100']
export const ITEM_FLAGS: ItemFlag[] = ['too_easy', 'too_hard', 'not_discriminating', 'small_sample']
/** Shown for a figure that does not exist (no roster, nothing scored). */
export const NO_VALUE = '—'

const DATE = /^\d{4}-\d{2}-\d{2}$/

// ---------------------------------------------------------------- numbers

function isNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && isFinite(value)
}

/** 66.666 → "66.7%"; null → "—". Never "-0.0%". */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (!isNumber(value)) return NO_VALUE
  return formatNumber(value, digits) + '%'
}

/** A plain figure with a fixed number of decimals; null → "—". */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (!isNumber(value)) return NO_VALUE
  const text = value.toFixed(digits)
  return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text
}

/** A count with thousands separators (1234 → "1,234"). */
export function formatCount(value: number | null | undefined): string {
  if (!isNumber(value)) return NO_VALUE
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** A value rounded for a chart (one decimal), or null for "no value" (ECharts leaves a gap). */
export function chartValue(value: number | null | undefined): number | null {
  return isNumber(value) ? Math.round(value * 10) / 10 : null
}

/** The band a mastery or score percentage falls in (the report's colour scale). */
export function bandOf(value: number): Band {
  if (value < 60) return '0-59'
  if (value < 70) return '60-69'
  if (value < 80) return '70-79'
  if (value < 90) return '80-89'
  return '90-100'
}

/** One colour per band, red (weak) to green (strong); the heat map and its table share them. */
export const BAND_COLOURS: Record<Band, string> = {
  '0-59': '#e8684a',
  '60-69': '#f5a35c',
  '70-79': '#f6d365',
  '80-89': '#9fd38b',
  '90-100': '#4caf7a',
}

export function masteryColour(value: number | null | undefined): string | null {
  return isNumber(value) ? BAND_COLOURS[bandOf(value)] : null
}

// ---------------------------------------------------------------- the selection

export function emptySelection(): Selection {
  return { quizIds: [], from: null, to: null, attempts: 'first', evaluationId: null }
}

/** The server needs at least one of quizzes, a date or an evaluation. */
export function hasSelection(selection: Selection): boolean {
  return (
    selection.quizIds.length > 0 || !!selection.from || !!selection.to || selection.evaluationId !== null
  )
}

function values(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : [raw]
  return list.filter((v): v is string => typeof v === 'string')
}

function positiveInt(text: string): number | null {
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : null
}

/** The selection from the address (?quiz_id=1&quiz_id=2&from=…&to=…&attempts=best&evaluation_id=3). */
export function selectionFromQuery(query: LocationQuery): Selection {
  const quizIds: number[] = []
  for (const text of values(query.quiz_id)) {
    const id = positiveInt(text)
    if (id !== null && quizIds.indexOf(id) < 0) quizIds.push(id)
  }
  const from = values(query.from)[0]
  const to = values(query.to)[0]
  const attempts = values(query.attempts)[0]
  const evaluation = values(query.evaluation_id)[0]
  return {
    quizIds,
    from: from && DATE.test(from) ? from : null,
    to: to && DATE.test(to) ? to : null,
    attempts: (ATTEMPT_CHOICES as string[]).indexOf(attempts || '') >= 0 ? (attempts as AttemptChoice) : 'first',
    evaluationId: evaluation ? positiveInt(evaluation) : null,
  }
}

/** The selection as the address keeps it (what selectionFromQuery reads back). */
export function selectionToQuery(selection: Selection): LocationQueryRaw {
  const query: LocationQueryRaw = {}
  if (selection.quizIds.length) query.quiz_id = selection.quizIds.map(String)
  if (selection.from) query.from = selection.from
  if (selection.to) query.to = selection.to
  if (selection.attempts !== 'first') query.attempts = selection.attempts
  if (selection.evaluationId !== null) query.evaluation_id = String(selection.evaluationId)
  return query
}

/** A date range with its ends in order (a swapped range is a typing slip, not an empty result). */
export function orderedRange(from: string | null, to: string | null): [string | null, string | null] {
  if (from && to && from > to) return [to, from]
  return [from, to]
}

// ---------------------------------------------------------------- the unit trail

/** The units from the top of what the caller sees down to `unitId` (for the breadcrumb). */
export function unitTrail(units: UnitOut[], unitId: number): UnitOut[] {
  const byId = new Map<number, UnitOut>()
  for (const u of units) byId.set(u.id, u)
  const trail: UnitOut[] = []
  let at = byId.get(unitId)
  while (at && trail.indexOf(at) < 0) {
    trail.unshift(at)
    at = at.parent_id !== null ? byId.get(at.parent_id) : undefined
  }
  return trail
}

// ---------------------------------------------------------------- rows of the tables and charts

export interface UnitRow {
  figures: UnitFigures
  /** The unit's own officers (本级), not a child unit: not drilled into. */
  own: boolean
  label: string
}

/** The unit's own officers first (labelled), then each child unit: together they make the summary. */
export function unitRows(report: UnitReport, ownLabel: string): UnitRow[] {
  const rows: UnitRow[] = []
  if (report.own) rows.push({ figures: report.own, own: true, label: ownLabel })
  for (const child of report.children) rows.push({ figures: child, own: false, label: child.name })
  return rows
}

/** Areas shown: the top level (the shallowest depth present) unless all levels are wanted. */
export function shownAreas(areas: AreaFigures[], allLevels: boolean): AreaFigures[] {
  if (allLevels || !areas.length) return areas.slice()
  let top = Infinity
  for (const a of areas) top = Math.min(top, a.depth)
  return areas.filter((a) => a.depth === top)
}

export interface MatrixRow {
  area: AreaFigures
  /** Mastery per unit column, in the order of the columns; null where nothing was asked. */
  cells: (number | null)[]
}

/** The heat map as a table: a row per area, a column per unit (unit ids in column order). */
export function matrixRows(areas: AreaFigures[], cells: AreaCell[], unitIds: number[]): MatrixRow[] {
  const key = (unitId: number, areaId: number) => unitId + ':' + areaId
  const byKey = new Map<string, AreaCell>()
  for (const cell of cells) byKey.set(key(cell.unit_id, cell.knowledge_area_id), cell)
  return areas.map((area) => ({
    area,
    cells: unitIds.map((unitId) => {
      const cell = byKey.get(key(unitId, area.knowledge_area_id))
      return cell && cell.possible > 0 && isNumber(cell.mastery_percent) ? cell.mastery_percent : null
    }),
  }))
}

/** How many officers of a unit row have not taken part (the follow-up count). */
export function missing(figures: UnitFigures): number {
  return Math.max(0, figures.roster - figures.participants)
}

/** Questions worth a look first: any flag, most flags first, then the lowest facility. */
export function flaggedFirst<T extends { flags: ItemFlag[]; facility: number | null }>(questions: T[]): T[] {
  return questions
    .filter((q) => q.flags.some((f) => f !== 'small_sample'))
    .sort((a, b) => {
      const byFlags = b.flags.length - a.flags.length
      if (byFlags !== 0) return byFlags
      return (a.facility === null ? Infinity : a.facility) - (b.facility === null ? Infinity : b.facility)
    })
}

/** An ISO timestamp as "2026-11-27 14:05" in local time (the report's date line). */
export function formatDateTime(iso: string): string {
  const date = new Date(iso)
  if (isNaN(date.getTime())) return iso
  const pad = (n: number) => (n < 10 ? '0' : '') + n
  return (
    date.getFullYear() +
    '-' +
    pad(date.getMonth() + 1) +
    '-' +
    pad(date.getDate()) +
    ' ' +
    pad(date.getHours()) +
    ':' +
    pad(date.getMinutes())
  )
}

// ---------------------------------------------------------------- evaluations (targets)

export interface EvaluationForm {
  name: string
  quizIds: number[]
  from: string
  to: string
  attempts: AttemptChoice
  /** Thresholds as typed: "" = not checked. */
  minParticipation: string
  minPassRate: string
  minMean: string
}

export function emptyEvaluationForm(): EvaluationForm {
  return {
    name: '',
    quizIds: [],
    from: '',
    to: '',
    attempts: 'first',
    minParticipation: '',
    minPassRate: '',
    minMean: '',
  }
}

function thresholdText(value: number | null): string {
  return value === null || value === undefined ? '' : String(value)
}

export function evaluationFormFrom(e: Evaluation): EvaluationForm {
  return {
    name: e.name,
    quizIds: e.quiz_ids.slice(),
    from: e.date_from || '',
    to: e.date_to || '',
    attempts: e.attempts,
    minParticipation: thresholdText(e.min_participation_percent),
    minPassRate: thresholdText(e.min_pass_rate_percent),
    minMean: thresholdText(e.min_mean_percent),
  }
}

/** "" → null (not checked); a number from 0 to 100 → that number; anything else → NaN. */
export function parseThreshold(text: string): number | null {
  const clean = text.trim().replace(/[%％]$/, '').trim()
  if (clean === '') return null
  if (!/^\d+(\.\d+)?$/.test(clean)) return NaN
  const value = Number(clean)
  return value >= 0 && value <= 100 ? value : NaN
}

/** The locale key (admin.stats.evaluations.problems.*) of what must be fixed first, else null. */
export function evaluationProblem(form: EvaluationForm): string | null {
  if (!form.name.trim()) return 'nameRequired'
  if (!form.quizIds.length && !form.from && !form.to) return 'selectionRequired'
  for (const text of [form.minParticipation, form.minPassRate, form.minMean]) {
    const value = parseThreshold(text)
    if (value !== null && isNaN(value)) return 'thresholdInvalid'
  }
  return null
}

/** The POST / PATCH body (call only when evaluationProblem is null). */
export function evaluationBody(form: EvaluationForm): EvaluationIn {
  const [from, to] = orderedRange(form.from || null, form.to || null)
  return {
    name: form.name.trim(),
    quiz_ids: form.quizIds.slice().sort((a, b) => a - b),
    date_from: from,
    date_to: to,
    attempts: form.attempts,
    min_participation_percent: parseThreshold(form.minParticipation),
    min_pass_rate_percent: parseThreshold(form.minPassRate),
    min_mean_percent: parseThreshold(form.minMean),
  }
}
