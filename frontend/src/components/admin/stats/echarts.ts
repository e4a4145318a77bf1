// The ECharts pieces the statistics pages use, registered once. Imported only by StatsChart.vue,
// which only the lazily loaded admin statistics pages use: the officer's bundle never has it.
import { init, use } from 'echarts/core'
import type { EChartsType } from 'echarts/core'
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapPiecewiseComponent,
} from 'echarts/components'
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers'

use([
  BarChart,
  LineChart,
  HeatmapChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapPiecewiseComponent,
  CanvasRenderer,
  SVGRenderer,
])

export { init }
export type { EChartsType }
