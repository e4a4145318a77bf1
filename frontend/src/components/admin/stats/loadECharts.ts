// ECharts is a chunk of its own, fetched when the first chart appears (the tables show at once).
// Kept in one place so that tests can stand in for ECharts, which needs a real canvas.
import type { init as Init } from './echarts'

export type InitChart = typeof Init

export async function loadECharts(): Promise<InitChart> {
  return (await import('./echarts')).init
}
