import { describe, expect, it } from 'vitest'
import { BAND_COLOURS, matrixRows, shownAreas, unitRows } from '@/utils/stats'
import { areaBarsOption, bandPieces, heatmapOption, heightFor, trendOption, unitBarsOption } from '@/utils/statsCharts'
import type { StatsChartOption } from '@/utils/statsCharts'
import { cityReport, trendPoints } from './statsFixtures'

type Series = { name?: string; type?: string; data?: unknown[]; yAxisIndex?: number }

function series(option: StatsChartOption): Series[] {
  return option.series as Series[]
}

function categories(axis: unknown): unknown[] {
  return (axis as { data: unknown[] }).data
}

describe('unit bars', () => {
  const rows = unitRows(cityReport(), '江川市（本级）')
  const option = unitBarsOption(rows, { participation: '参与率', mean: '平均得分率' })

  it('has a category per unit row and the two figures, one decimal, a gap where there is none', () => {
    expect(categories(option.xAxis)).toEqual(['江川市（本级）', '东川县', '西川县'])
    const [participation, mean] = series(option)
    expect(participation!.name).toBe('参与率')
    expect(participation!.data).toEqual([80, 66.7, null])
    expect(mean!.name).toBe('平均得分率')
    expect(mean!.data).toEqual([72.5, 81.3, null])
  })

  it('animates on screen, not on paper', () => {
    expect(option.animation).toBe(true)
    expect(unitBarsOption(rows, { participation: 'p', mean: 'm' }, { animation: false }).animation).toBe(false)
  })
})

describe('the heat map', () => {
  const report = cityReport()
  const rows = matrixRows(shownAreas(report.areas, false), report.area_matrix, [1, 2, 3])
  const option = heatmapOption(rows, ['本级', '东川县', '西川县'], '掌握率')

  it('puts a cell [unit, area, mastery] wherever something was asked, first area on top', () => {
    // Areas are listed bottom-up on the y axis, so the first area is row index 1 of 2.
    expect(categories(option.yAxis)).toEqual(['法律法规', '政治理论'])
    expect(categories(option.xAxis)).toEqual(['本级', '东川县', '西川县'])
    expect(series(option)[0]!.data).toEqual([
      [0, 1, 50],
      [1, 1, 72.2],
      [1, 0, 90],
    ])
  })

  it('colours by the score bands: every value from 0 to 100 in exactly one piece', () => {
    const pieces = bandPieces()
    expect(pieces.map((p) => p.color)).toEqual(Object.values(BAND_COLOURS))
    for (let value = 0; value <= 100; value += 0.5) {
      const holding = pieces.filter(
        (p) => value >= p.gte && (p.lt === undefined || value < p.lt) && (p.lte === undefined || value <= p.lte),
      )
      expect(holding, `value ${value}`).toHaveLength(1)
    }
  })
})

describe('the trend', () => {
  it('draws mean and pass rate as lines on the % axis and participants as bars on the count axis', () => {
    const option = trendOption(trendPoints, { mean: '平均', passRate: '合格率', participants: '累计' })
    expect(categories(option.xAxis)).toEqual(['2026-11-25', '2026-11-26'])
    const byName = new Map(series(option).map((s) => [s.name, s]))
    expect(byName.get('累计')).toMatchObject({ type: 'bar', yAxisIndex: 1, data: [10, 28] })
    expect(byName.get('平均')).toMatchObject({ type: 'line', data: [70, null] })
    expect(byName.get('合格率')).toMatchObject({ type: 'line', data: [80, null] })
  })
})

describe('mastery per area (the report)', () => {
  it('lists areas top-down, each bar in its band colour', () => {
    const option = areaBarsOption(shownAreas(cityReport().areas, false), '掌握率', { animation: false })
    expect(option.animation).toBe(false)
    expect(categories(option.yAxis)).toEqual(['法律法规', '政治理论'])
    expect(series(option)[0]!.data).toEqual([
      { value: 90, itemStyle: { color: BAND_COLOURS['90-100'] } },
      { value: 70, itemStyle: { color: BAND_COLOURS['70-79'] } },
    ])
  })

  it('leaves an area with nothing possible without a bar', () => {
    const areas = [{ knowledge_area_id: 1, full_name: '空', depth: 0, awarded: 0, possible: 0, mastery_percent: null }]
    expect(series(areaBarsOption(areas, 'x'))[0]!.data).toEqual([{ value: null }])
  })
})

describe('chart heights', () => {
  it('grow with the categories within bounds', () => {
    expect(heightFor(0, 30, 200, 600)).toBe(200)
    expect(heightFor(10, 30, 200, 600)).toBe(360)
    expect(heightFor(100, 30, 200, 600)).toBe(600)
  })
})
