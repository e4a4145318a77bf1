// A unit report, trend and item analysis in the shapes of the statistics contract (issue 6), for
// the statistics pages' specs: a city (江川市) with two counties and its own officers.
import type { Evaluation, ItemAnalysis, TrendPoint, UnitFigures, UnitReport } from '@/api/stats'
import type { UnitOut } from '@/api/types'

export function figures(extra: Partial<UnitFigures> & { unit_id: number; name: string }): UnitFigures {
  return {
    roster: 10,
    participants: 8,
    participation_percent: 80,
    scored: 8,
    mean_percent: 72.5,
    median_percent: 75,
    pass_rate_percent: 87.5,
    passed: 7,
    bands: { '0-59': 1, '60-69': 1, '70-79': 3, '80-89': 2, '90-100': 1 },
    small_sample: true,
    targets: null,
    ...extra,
  }
}

export const county1 = figures({
  unit_id: 2,
  name: '东川县',
  roster: 30,
  participants: 20,
  participation_percent: 66.66666666666667,
  scored: 20,
  mean_percent: 81.25,
  median_percent: 82.5,
  pass_rate_percent: 95,
  passed: 19,
  bands: { '0-59': 1, '60-69': 2, '70-79': 4, '80-89': 7, '90-100': 6 },
  small_sample: false,
})
export const county2 = figures({
  unit_id: 3,
  name: '西川县',
  roster: 0,
  participants: 0,
  participation_percent: null,
  scored: 0,
  mean_percent: null,
  median_percent: null,
  pass_rate_percent: null,
  passed: 0,
  bands: { '0-59': 0, '60-69': 0, '70-79': 0, '80-89': 0, '90-100': 0 },
  small_sample: true,
})
export const cityOwn = figures({ unit_id: 1, name: '江川市' })
export const citySummary = figures({
  unit_id: 1,
  name: '江川市',
  roster: 40,
  participants: 28,
  participation_percent: 70,
  scored: 28,
  mean_percent: 78.75,
  median_percent: 80,
  pass_rate_percent: 92.85714285714286,
  passed: 26,
  bands: { '0-59': 2, '60-69': 3, '70-79': 7, '80-89': 9, '90-100': 7 },
  small_sample: false,
})

export function cityReport(extra: Partial<UnitReport> = {}): UnitReport {
  return {
    unit: { id: 1, name: '江川市', full_name: '江川市' },
    selection: { quiz_ids: [11], quizzes: [{ id: 11, title: '应知应会第一次测试' }], date_from: null, date_to: null, attempts: 'first' },
    generated_at: '2026-11-27T06:30:00Z',
    evaluation: null,
    summary: citySummary,
    own: cityOwn,
    children: [county1, county2],
    areas: [
      { knowledge_area_id: 100, full_name: '政治理论', depth: 0, awarded: 70, possible: 100, mastery_percent: 70 },
      { knowledge_area_id: 101, full_name: '政治理论/党章', depth: 1, awarded: 30, possible: 40, mastery_percent: 75 },
      { knowledge_area_id: 200, full_name: '法律法规', depth: 0, awarded: 45, possible: 50, mastery_percent: 90 },
    ],
    area_matrix: [
      { unit_id: 1, knowledge_area_id: 100, awarded: 5, possible: 10, mastery_percent: 50 },
      { unit_id: 2, knowledge_area_id: 100, awarded: 65, possible: 90, mastery_percent: 72.22222222222223 },
      { unit_id: 2, knowledge_area_id: 200, awarded: 45, possible: 50, mastery_percent: 90 },
      { unit_id: 2, knowledge_area_id: 101, awarded: 30, possible: 40, mastery_percent: 75 },
    ],
    weakest_questions: [
      { question_id: 501, stem: '最难的一道题', type: 'multiple', knowledge_area: '政治理论/党章', answered: 20, facility_percent: 15 },
    ],
    non_participants: {
      total: 12,
      items: [
        { user_id: 900, name: '周八', police_number: 'P900', unit_id: 2, unit_name: '东川县' },
        { user_id: 901, name: '吴九', police_number: 'P901', unit_id: 1, unit_name: '江川市' },
      ],
    },
    spot_sessions: [],
    ...extra,
  }
}

export const trendPoints: TrendPoint[] = [
  { period: '2026-11-25', scored: 10, participants_cumulative: 10, mean_percent: 70, pass_rate_percent: 80 },
  { period: '2026-11-26', scored: 18, participants_cumulative: 28, mean_percent: null, pass_rate_percent: null },
]

export const analysis: ItemAnalysis = {
  quiz: { id: 11, title: '应知应会第一次测试' },
  unit: { id: 1, name: '江川市', full_name: '江川市' },
  attempts: 28,
  small_sample: false,
  test: { mean: 78.75, median: 80, sd: 12.5, skewness: -0.4, kurtosis: 0.1, cic: 71.2, error_ratio: 53.6, standard_error: 6.7 },
  questions: [
    { question_id: 501, stem: '最难的一道题', type: 'multiple', knowledge_area: '政治理论', count: 28, facility: 15, sd: 35, discrimination_index: 12, discriminative_efficiency: 20, flags: ['too_hard', 'not_discriminating'] },
    { question_id: 502, stem: '最容易的一道题', type: 'true_false', knowledge_area: '法律法规', count: 28, facility: 98, sd: 14, discrimination_index: 5, discriminative_efficiency: 8, flags: ['too_easy'] },
    { question_id: 503, stem: '正常的一道题', type: 'single', knowledge_area: '法律法规', count: 28, facility: 60, sd: 49, discrimination_index: 45, discriminative_efficiency: 55, flags: [] },
  ],
}

export const evaluation: Evaluation = {
  id: 4,
  name: '2026 年度评估',
  quiz_ids: [11],
  date_from: null,
  date_to: null,
  attempts: 'first',
  min_participation_percent: 90,
  min_pass_rate_percent: 80,
  min_mean_percent: null,
  created_at: '2026-11-01T02:00:00Z',
}

function unit(id: number, parent: number | null, name: string, depth: number): UnitOut {
  return {
    id,
    parent_id: parent,
    code: 'U' + id,
    name,
    kind: 'other',
    depth,
    path: '/' + id + '/',
    sort_order: 0,
    officer_count: 1,
    subtree_officer_count: 1,
  }
}

export const units: UnitOut[] = [
  unit(1, null, '江川市', 0),
  unit(2, 1, '东川县', 1),
  unit(4, 2, '东川县人民法院', 2),
  unit(3, 1, '西川县', 1),
]
