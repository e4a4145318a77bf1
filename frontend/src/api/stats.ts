// Statistics (issue 6): response shapes of /stats/* and /evaluations, and their typed calls.
// Loaded with the admin statistics pages only, never in the officer's bundle.
import { api } from './http'
import { download } from './admin'
import type { Download } from './admin'

export type AttemptChoice = 'first' | 'best' | 'last'
export type TrendBucket = 'day' | 'week'
export type Band = '0-59' | '60-69' | '70-79' | '80-89' | '90-100'
export type ReportTable = 'units' | 'areas' | 'questions' | 'non_participants'
export type ItemFlag = 'too_easy' | 'too_hard' | 'not_discriminating' | 'small_sample'
export type TargetCheckName = 'participation' | 'pass_rate' | 'mean'

/** What the figures are computed over (the selection query parameters of every report endpoint). */
export interface Selection {
  quizIds: number[]
  /** ISO dates (yyyy-mm-dd), both ends included. */
  from: string | null
  to: string | null
  attempts: AttemptChoice
  evaluationId: number | null
}

export interface TargetCheck {
  name: TargetCheckName
  threshold: number
  value: number | null
  met: boolean
}

export interface Targets {
  met: boolean
  checks: TargetCheck[]
}

export interface UnitFigures {
  unit_id: number
  name: string
  roster: number
  participants: number
  participation_percent: number | null
  scored: number
  mean_percent: number | null
  median_percent: number | null
  pass_rate_percent: number | null
  passed: number
  bands: Record<Band, number>
  small_sample: boolean
  targets: Targets | null
}

export interface AreaFigures {
  knowledge_area_id: number
  full_name: string
  depth: number
  awarded: number
  possible: number
  mastery_percent: number | null
}

export interface AreaCell {
  unit_id: number
  knowledge_area_id: number
  awarded: number
  possible: number
  mastery_percent: number | null
}

export interface WeakQuestion {
  question_id: number
  stem: string
  type: string
  knowledge_area: string
  answered: number
  facility_percent: number
}

export interface NonParticipant {
  user_id: number
  name: string
  police_number: string | null
  unit_id: number
  unit_name: string
}

export interface ReportSelection {
  quiz_ids: number[]
  quizzes: { id: number; title: string }[]
  date_from: string | null
  date_to: string | null
  attempts: AttemptChoice
}

export interface UnitRef {
  id: number
  name: string
  full_name: string
}

/** The evaluation a report was checked against: its thresholds (null = not checked). */
export interface EvaluationRef {
  id: number
  name: string
  min_participation_percent: number | null
  min_pass_rate_percent: number | null
  min_mean_percent: number | null
}

/** One on-site spot session in the unit's subtree (reported apart from the quiz figures). */
export interface SpotSummary {
  kind: string
  label: string
  id: number
  title: string
  unit: string
  mode: string
  status: string
  drawn_at: string | null
  closed_at: string | null
  /** Officers drawn, and of those how many joined. */
  participants: number
  joined: number
  scored: number
  mean_percent: number | null
  /** Oral checks by result. */
  oral: Record<string, number>
}

export interface UnitReport {
  unit: UnitRef
  selection: ReportSelection
  generated_at: string
  evaluation: EvaluationRef | null
  summary: UnitFigures
  own: UnitFigures | null
  children: UnitFigures[]
  areas: AreaFigures[]
  area_matrix: AreaCell[]
  weakest_questions: WeakQuestion[]
  non_participants: { total: number; items: NonParticipant[] }
  /** Spot-session results (issue 5): always labelled, never mixed with quiz figures. */
  spot_sessions: SpotSummary[]
}

export interface TrendPoint {
  period: string
  scored: number
  participants_cumulative: number
  mean_percent: number | null
  pass_rate_percent: number | null
}

export interface TestStatistics {
  mean: number | null
  median: number | null
  sd: number | null
  skewness: number | null
  kurtosis: number | null
  cic: number | null
  error_ratio: number | null
  standard_error: number | null
}

export interface QuestionStatistics {
  question_id: number
  stem: string
  type: string
  knowledge_area: string
  count: number
  facility: number | null
  sd: number | null
  discrimination_index: number | null
  discriminative_efficiency: number | null
  flags: ItemFlag[]
}

export interface ItemAnalysis {
  quiz: { id: number; title: string }
  /** The unit whose subtree was analysed (id 0: every unit). */
  unit: UnitRef
  attempts: number
  small_sample: boolean
  test: TestStatistics
  questions: QuestionStatistics[]
}

export interface Evaluation {
  id: number
  name: string
  quiz_ids: number[]
  date_from: string | null
  date_to: string | null
  attempts: AttemptChoice
  min_participation_percent: number | null
  min_pass_rate_percent: number | null
  min_mean_percent: number | null
  created_at: string
}

export type EvaluationIn = Omit<Evaluation, 'id' | 'created_at'>

/** A quiz as GET /quizzes lists it (only what the statistics pages read). */
export interface QuizSummary {
  id: number
  title: string
  status: string
  opens_at: string | null
  closes_at: string | null
  published_at: string | null
}

type Param = [string, string | number | null | undefined]

/** "?quiz_id=1&quiz_id=2&from=…" for a selection (repeated quiz_id), plus any extra parameters.
 * An evaluation brings its own quizzes, dates and attempt rule: then only its id is sent. */
export function selectionQuery(selection: Selection, extra: Param[] = []): string {
  const params: Param[] = []
  if (selection.evaluationId !== null) {
    params.push(['evaluation_id', selection.evaluationId])
  } else {
    for (const id of selection.quizIds) params.push(['quiz_id', id])
    params.push(['from', selection.from], ['to', selection.to], ['attempts', selection.attempts])
  }
  const parts: string[] = []
  for (const [key, value] of params.concat(extra)) {
    if (value === null || value === undefined || String(value).trim() === '') continue
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value).trim()))
  }
  return parts.length ? '?' + parts.join('&') : ''
}

export const statsApi = {
  report: (unitId: number, selection: Selection) =>
    api.get<UnitReport>(`/stats/units/${unitId}/report` + selectionQuery(selection), { timeoutMs: 60000 }),
  trend: (unitId: number, selection: Selection, bucket: TrendBucket) =>
    api.get<TrendPoint[]>(`/stats/units/${unitId}/trend` + selectionQuery(selection, [['bucket', bucket]]), {
      timeoutMs: 60000,
    }),
  itemAnalysis: (quizId: number, unitId: number | null, attempts: AttemptChoice) =>
    api.get<ItemAnalysis>(
      `/stats/quizzes/${quizId}/item-analysis` +
        selectionQuery({ quizIds: [], from: null, to: null, attempts, evaluationId: null }, [['unit_id', unitId]]),
      { timeoutMs: 60000 },
    ),
  reportXlsx: (unitId: number, selection: Selection): Promise<Download> =>
    download(`/stats/units/${unitId}/report.xlsx` + selectionQuery(selection), `report-${unitId}.xlsx`),
  reportCsv: (unitId: number, selection: Selection, table: ReportTable): Promise<Download> =>
    download(
      `/stats/units/${unitId}/report.csv` + selectionQuery(selection, [['table', table]]),
      `report-${unitId}-${table}.csv`,
    ),
  itemAnalysisFile: (
    quizId: number,
    unitId: number | null,
    attempts: AttemptChoice,
    format: 'xlsx' | 'csv',
  ): Promise<Download> =>
    download(
      `/stats/quizzes/${quizId}/item-analysis.${format}` +
        selectionQuery({ quizIds: [], from: null, to: null, attempts, evaluationId: null }, [['unit_id', unitId]]),
      `item-analysis-${quizId}.${format}`,
    ),
}

export const quizListApi = {
  quizzes: () => api.get<QuizSummary[]>('/quizzes'),
}

export const evaluationsApi = {
  list: () => api.get<Evaluation[]>('/evaluations'),
  get: (id: number) => api.get<Evaluation>(`/evaluations/${id}`),
  create: (body: EvaluationIn) => api.post<Evaluation>('/evaluations', body),
  update: (id: number, body: Partial<EvaluationIn>) => api.patch<Evaluation>(`/evaluations/${id}`, body),
}
