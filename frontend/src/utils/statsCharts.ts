// ECharts options built from the statistics API's figures. Pure (type imports only, no ECharts
// code), so the officer's bundle never carries ECharts and vitest checks the options directly.
import type { ComposeOption } from 'echarts/core'
import type { BarSeriesOption, HeatmapSeriesOption, LineSeriesOption } from 'echarts/charts'
import type {
  GridComponentOption,
  LegendComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption,
} from 'echarts/components'
import type { AreaFigures, TrendPoint } from '@/api/stats'
import type { MatrixRow, UnitRow } from './stats'
import { BAND_COLOURS, BANDS, bandOf, chartValue } from './stats'

export type StatsChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | HeatmapSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TooltipComponentOption
  | VisualMapComponentOption
>

/** Charts on paper (the A4 report) do not animate: drawn at once, complete when printed. */
export interface ChartLook {
  animation: boolean
}

const SCREEN: ChartLook = { animation: true }
const PERCENT_AXIS = { type: 'value' as const, min: 0, max: 100, axisLabel: { formatter: '{value}%' } }

/** Long unit names: the category axis shows them cut, the tooltip whole. */
function categoryLabels(count: number) {
  return { interval: 0, rotate: count > 6 ? 30 : 0, width: count > 6 ? 110 : 140, overflow: 'truncate' as const }
}

export interface UnitBarLabels {
  participation: string
  mean: string
}

/** Participation % and mean score % per unit row, side by side. */
export function unitBarsOption(rows: UnitRow[], labels: UnitBarLabels, look: ChartLook = SCREEN): StatsChartOption {
  const names = rows.map((r) => r.label)
  const barLabel = { show: rows.length <= 12, position: 'top' as const, fontSize: 10, formatter: '{c}%' }
  return {
    animation: look.animation,
    tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? v.toFixed(1) + '%' : '—') },
    legend: { data: [labels.participation, labels.mean], top: 0 },
    grid: { left: 8, right: 8, top: 36, bottom: 8 },
    xAxis: { type: 'category', data: names, axisLabel: categoryLabels(names.length) },
    yAxis: PERCENT_AXIS,
    series: [
      {
        name: labels.participation,
        type: 'bar',
        data: rows.map((r) => chartValue(r.figures.participation_percent)),
        itemStyle: { color: '#1d4f9c' },
        barMaxWidth: 56,
        label: barLabel,
      },
      {
        name: labels.mean,
        type: 'bar',
        data: rows.map((r) => chartValue(r.figures.mean_percent)),
        itemStyle: { color: '#f0a020' },
        barMaxWidth: 56,
        label: barLabel,
      },
    ],
  }
}

/** The colour pieces of the heat map: the score bands (shared with the table's cell colours).
 * Each band runs up to the next one's start, so 59.5 is in 0-59 and nothing falls in a gap. */
export function bandPieces(): { gte: number; lt?: number; lte?: number; color: string; label: string }[] {
  return BANDS.map((band) => {
    const [low, high] = band.split('-').map(Number) as [number, number]
    const piece = { gte: low, color: BAND_COLOURS[band], label: band + '%' }
    return high === 100 ? { ...piece, lte: 100 } : { ...piece, lt: high + 1 }
  })
}

/** Knowledge area (rows) × unit (columns) mastery; empty cells where nothing was asked. */
export function heatmapOption(
  rows: MatrixRow[],
  unitNames: string[],
  label: string,
  look: ChartLook = SCREEN,
): StatsChartOption {
  const data: [number, number, number][] = []
  // ECharts draws the first category at the bottom: areas listed top-down read as in the table.
  const areaNames = rows.map((r) => r.area.full_name).reverse()
  rows.forEach((row, r) => {
    const y = rows.length - 1 - r
    row.cells.forEach((value, x) => {
      const shown = chartValue(value)
      if (shown !== null) data.push([x, y, shown])
    })
  })
  return {
    animation: look.animation,
    tooltip: {
      position: 'top',
      formatter: (params) => {
        const p = Array.isArray(params) ? params[0] : params
        const value = p && Array.isArray(p.value) ? (p.value as number[]) : null
        if (!value) return ''
        return `${unitNames[value[0]!]}<br/>${areaNames[value[1]!]}<br/>${label}: ${value[2]!.toFixed(1)}%`
      },
    },
    // Room below the unit names for the colour legend.
    grid: { left: 8, right: 8, top: 8, bottom: 64 },
    xAxis: { type: 'category', data: unitNames, splitArea: { show: true }, axisLabel: categoryLabels(unitNames.length) },
    yAxis: {
      type: 'category',
      data: areaNames,
      splitArea: { show: true },
      axisLabel: { width: 160, overflow: 'truncate' },
    },
    visualMap: {
      type: 'piecewise',
      pieces: bandPieces(),
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemWidth: 14,
      itemHeight: 10,
      textStyle: { fontSize: 11 },
    },
    series: [
      {
        name: label,
        type: 'heatmap',
        data,
        label: { show: true, fontSize: 11, formatter: (p) => (Array.isArray(p.value) ? String(p.value[2]) : '') },
        emphasis: { itemStyle: { borderColor: '#333', borderWidth: 1 } },
      },
    ],
  }
}

export interface TrendLabels {
  mean: string
  passRate: string
  participants: string
}

/** Over time: mean and pass rate (lines, %), participants so far (bars, count, right axis). */
export function trendOption(points: TrendPoint[], labels: TrendLabels, look: ChartLook = SCREEN): StatsChartOption {
  return {
    animation: look.animation,
    tooltip: { trigger: 'axis' },
    legend: { data: [labels.mean, labels.passRate, labels.participants], top: 0 },
    grid: { left: 8, right: 8, top: 36, bottom: 8 },
    xAxis: { type: 'category', data: points.map((p) => p.period) },
    yAxis: [PERCENT_AXIS, { type: 'value', minInterval: 1, splitLine: { show: false } }],
    series: [
      {
        name: labels.participants,
        type: 'bar',
        yAxisIndex: 1,
        data: points.map((p) => p.participants_cumulative),
        itemStyle: { color: '#c8d6ee' },
        barMaxWidth: 48,
      },
      {
        name: labels.mean,
        type: 'line',
        data: points.map((p) => chartValue(p.mean_percent)),
        connectNulls: true,
        itemStyle: { color: '#f0a020' },
      },
      {
        name: labels.passRate,
        type: 'line',
        data: points.map((p) => chartValue(p.pass_rate_percent)),
        connectNulls: true,
        itemStyle: { color: '#1d4f9c' },
      },
    ],
  }
}

/** Mastery per knowledge area as horizontal bars, coloured by band (the report's area chart). */
export function areaBarsOption(areas: AreaFigures[], label: string, look: ChartLook = SCREEN): StatsChartOption {
  // Top-down in the order given (ECharts draws the first category at the bottom).
  const shown = areas.slice().reverse()
  return {
    animation: look.animation,
    tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? v.toFixed(1) + '%' : '—') },
    grid: { left: 8, right: 40, top: 8, bottom: 8 },
    xAxis: PERCENT_AXIS,
    yAxis: {
      type: 'category',
      data: shown.map((a) => a.full_name),
      axisLabel: { width: 170, overflow: 'truncate' },
    },
    series: [
      {
        name: label,
        type: 'bar',
        data: shown.map((a) => {
          const value = chartValue(a.mastery_percent)
          return value === null
            ? { value: null }
            : { value, itemStyle: { color: BAND_COLOURS[bandOf(value)] } }
        }),
        label: { show: true, position: 'right', formatter: '{c}%', fontSize: 10 },
        barMaxWidth: 22,
      },
    ],
  }
}

/** A chart's height in px from its category count (readable bars, no wasted paper). */
export function heightFor(categories: number, perCategory: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, 60 + categories * perCategory))
}
