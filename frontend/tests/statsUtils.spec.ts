import { describe, expect, it } from 'vitest'
import { selectionQuery } from '@/api/stats'
import {
  bandOf,
  chartValue,
  emptyEvaluationForm,
  emptySelection,
  evaluationBody,
  evaluationFormFrom,
  evaluationProblem,
  flaggedFirst,
  formatCount,
  formatNumber,
  formatPercent,
  hasSelection,
  masteryColour,
  matrixRows,
  missing,
  orderedRange,
  parseThreshold,
  selectionFromQuery,
  selectionToQuery,
  shownAreas,
  unitRows,
  unitTrail,
} from '@/utils/stats'
import { analysis, cityReport, county1, county2, evaluation, units } from './statsFixtures'

describe('number formats', () => {
  it('rounds percentages to one decimal and shows a dash for a missing figure', () => {
    expect(formatPercent(66.66666666666667)).toBe('66.7%')
    expect(formatPercent(100)).toBe('100.0%')
    expect(formatPercent(0)).toBe('0.0%')
    expect(formatPercent(92.85714285714286, 0)).toBe('93%')
    expect(formatPercent(null)).toBe('—')
    expect(formatPercent(undefined)).toBe('—')
    expect(formatPercent(NaN)).toBe('—')
  })

  it('never prints a negative zero', () => {
    expect(formatNumber(-0.0004, 3)).toBe('0.000')
    expect(formatNumber(-0.04, 1)).toBe('0.0')
    expect(formatNumber(-0.4, 3)).toBe('-0.400')
    expect(formatPercent(-0.01)).toBe('0.0%')
  })

  it('groups counts by thousands', () => {
    expect(formatCount(0)).toBe('0')
    expect(formatCount(999)).toBe('999')
    expect(formatCount(1234)).toBe('1,234')
    expect(formatCount(10000000)).toBe('10,000,000')
    expect(formatCount(null)).toBe('—')
  })

  it('gives charts one decimal or null (a gap)', () => {
    expect(chartValue(66.66666)).toBe(66.7)
    expect(chartValue(null)).toBeNull()
    expect(chartValue(Infinity)).toBeNull()
  })

  it('puts each percentage in exactly one band, the edges included', () => {
    expect(bandOf(0)).toBe('0-59')
    expect(bandOf(59.99)).toBe('0-59')
    expect(bandOf(60)).toBe('60-69')
    expect(bandOf(69.5)).toBe('60-69')
    expect(bandOf(70)).toBe('70-79')
    expect(bandOf(89.99)).toBe('80-89')
    expect(bandOf(90)).toBe('90-100')
    expect(bandOf(100)).toBe('90-100')
    expect(masteryColour(null)).toBeNull()
    expect(masteryColour(95)).not.toBe(masteryColour(30))
  })
})

describe('the selection in the address', () => {
  it('reads repeated quiz ids, dates, the attempt rule and an evaluation', () => {
    const selection = selectionFromQuery({
      quiz_id: ['3', '5', '3', 'x', '0'],
      from: '2026-11-01',
      to: '2026-11-30',
      attempts: 'best',
      evaluation_id: '7',
    })
    expect(selection).toEqual({ quizIds: [3, 5], from: '2026-11-01', to: '2026-11-30', attempts: 'best', evaluationId: 7 })
  })

  it('ignores what is not a date, an attempt rule or an id', () => {
    expect(selectionFromQuery({ quiz_id: '4', from: '2026-13', to: 'tomorrow', attempts: 'worst', evaluation_id: '-1' })).toEqual(
      { quizIds: [4], from: null, to: null, attempts: 'first', evaluationId: null },
    )
    expect(selectionFromQuery({})).toEqual(emptySelection())
  })

  it('writes back what it reads (round trip) and leaves defaults out', () => {
    const selection = { quizIds: [9, 2], from: '2026-01-01', to: null, attempts: 'last' as const, evaluationId: null }
    const query = selectionToQuery(selection)
    expect(query).toEqual({ quiz_id: ['9', '2'], from: '2026-01-01', attempts: 'last' })
    expect(selectionFromQuery(query as Record<string, string | string[]>)).toEqual(selection)
    expect(selectionToQuery(emptySelection())).toEqual({})
  })

  it('needs a quiz, a date or an evaluation', () => {
    expect(hasSelection(emptySelection())).toBe(false)
    expect(hasSelection({ ...emptySelection(), quizIds: [1] })).toBe(true)
    expect(hasSelection({ ...emptySelection(), to: '2026-01-01' })).toBe(true)
    expect(hasSelection({ ...emptySelection(), evaluationId: 2 })).toBe(true)
  })

  it('puts a swapped date range in order', () => {
    expect(orderedRange('2026-12-01', '2026-11-01')).toEqual(['2026-11-01', '2026-12-01'])
    expect(orderedRange('2026-11-01', null)).toEqual(['2026-11-01', null])
  })

  it('sends the selection to the API with quiz_id repeated, and only the id of an evaluation', () => {
    expect(selectionQuery({ quizIds: [3, 5], from: '2026-11-01', to: null, attempts: 'first', evaluationId: null })).toBe(
      '?quiz_id=3&quiz_id=5&from=2026-11-01&attempts=first',
    )
    expect(
      selectionQuery({ quizIds: [], from: null, to: null, attempts: 'best', evaluationId: null }, [['bucket', 'week']]),
    ).toBe('?attempts=best&bucket=week')
    expect(selectionQuery({ quizIds: [3], from: null, to: null, attempts: 'best', evaluationId: 8 })).toBe('?evaluation_id=8')
  })
})

describe('units', () => {
  it('gives the breadcrumb from the top unit the caller sees down to the unit', () => {
    expect(unitTrail(units, 4).map((u) => u.name)).toEqual(['江川市', '东川县', '东川县人民法院'])
    expect(unitTrail(units, 1).map((u) => u.id)).toEqual([1])
    // A unit admin's list starts at their unit: the trail stops there.
    expect(unitTrail(units.slice(1), 4).map((u) => u.id)).toEqual([2, 4])
    expect(unitTrail(units, 99)).toEqual([])
  })

  it("lists the unit's own officers first (labelled), then each child unit", () => {
    const rows = unitRows(cityReport(), '江川市（本级）')
    expect(rows.map((r) => [r.label, r.own, r.figures.unit_id])).toEqual([
      ['江川市（本级）', true, 1],
      ['东川县', false, 2],
      ['西川县', false, 3],
    ])
    expect(unitRows(cityReport({ own: null }), 'x').map((r) => r.figures.unit_id)).toEqual([2, 3])
  })

  it('counts who has not taken part, never below zero', () => {
    expect(missing(county1)).toBe(10)
    expect(missing(county2)).toBe(0)
    expect(missing({ ...county1, participants: 31 })).toBe(0)
  })
})

describe('knowledge areas', () => {
  it('shows the top level unless all levels are wanted', () => {
    const areas = cityReport().areas
    expect(shownAreas(areas, false).map((a) => a.knowledge_area_id)).toEqual([100, 200])
    expect(shownAreas(areas, true).map((a) => a.knowledge_area_id)).toEqual([100, 101, 200])
    expect(shownAreas([], false)).toEqual([])
  })

  it('lays the matrix out as area rows × unit columns, empty where nothing was asked', () => {
    const report = cityReport()
    const rows = matrixRows(shownAreas(report.areas, false), report.area_matrix, [1, 2, 3])
    expect(rows.map((r) => [r.area.knowledge_area_id, r.cells])).toEqual([
      [100, [50, 72.22222222222223, null]],
      [200, [null, 90, null]],
    ])
  })

  it('leaves out a cell with nothing possible', () => {
    const rows = matrixRows(
      [cityReport().areas[0]!],
      [{ unit_id: 1, knowledge_area_id: 100, awarded: 0, possible: 0, mastery_percent: null }],
      [1],
    )
    expect(rows[0]!.cells).toEqual([null])
  })
})

describe('item analysis', () => {
  it('puts flagged questions first, most flags and lowest facility first, small samples alone left out', () => {
    const questions = [
      ...analysis.questions,
      { ...analysis.questions[2]!, question_id: 504, flags: ['small_sample' as const] },
    ]
    expect(flaggedFirst(questions).map((q) => q.question_id)).toEqual([501, 502])
  })
})

describe('evaluation form', () => {
  it('reads thresholds: empty = not checked, 0 to 100 (a % sign allowed), anything else refused', () => {
    expect(parseThreshold('')).toBeNull()
    expect(parseThreshold('  ')).toBeNull()
    expect(parseThreshold('90')).toBe(90)
    expect(parseThreshold('85.5%')).toBe(85.5)
    expect(parseThreshold('0')).toBe(0)
    expect(parseThreshold('100')).toBe(100)
    expect(parseThreshold('101')).toBeNaN()
    expect(parseThreshold('-1')).toBeNaN()
    expect(parseThreshold('九十')).toBeNaN()
  })

  it('says what is missing first', () => {
    const form = emptyEvaluationForm()
    expect(evaluationProblem(form)).toBe('nameRequired')
    form.name = '年度评估'
    expect(evaluationProblem(form)).toBe('selectionRequired')
    form.from = '2026-11-01'
    expect(evaluationProblem(form)).toBe(null)
    form.minMean = '120'
    expect(evaluationProblem(form)).toBe('thresholdInvalid')
  })

  it('round-trips a stored evaluation through the form into the same body', () => {
    const form = evaluationFormFrom(evaluation)
    expect(form.minMean).toBe('')
    expect(form.minParticipation).toBe('90')
    expect(evaluationBody(form)).toEqual({
      name: evaluation.name,
      quiz_ids: [11],
      date_from: null,
      date_to: null,
      attempts: 'first',
      min_participation_percent: 90,
      min_pass_rate_percent: 80,
      min_mean_percent: null,
    })
  })

  it('sends sorted quiz ids, dates in order and a trimmed name', () => {
    const body = evaluationBody({
      ...emptyEvaluationForm(),
      name: '  评估  ',
      quizIds: [7, 2],
      from: '2026-12-01',
      to: '2026-11-01',
      attempts: 'best',
      minPassRate: '60',
    })
    expect(body).toMatchObject({
      name: '评估',
      quiz_ids: [2, 7],
      date_from: '2026-11-01',
      date_to: '2026-12-01',
      attempts: 'best',
    })
    expect(body.min_pass_rate_percent).toBe(60)
  })
})
