import type { ItemOut, ResponseValue } from '@/api/types'

/** Whether a response counts as answered (the server's is_blank, inverted). */
export function isAnswered(response: ResponseValue | undefined): boolean {
  if (response === null || response === undefined) return false
  if (typeof response === 'boolean') return true
  if (typeof response === 'string') return response.length > 0
  if (response.length === 0) return false
  return response.some((r) => typeof r === 'string' && r.trim().length > 0)
}

/** A response normalised to the item's shape (e.g. fill-in-the-blank: exactly `blanks` texts). */
export function blanksOf(item: Pick<ItemOut, 'blanks'>, response: ResponseValue | undefined): string[] {
  const values = Array.isArray(response) ? response : []
  const out: string[] = []
  for (let i = 0; i < item.blanks; i += 1) {
    const value = values[i]
    out.push(typeof value === 'string' ? value : '')
  }
  return out
}

type Translate = (key: string) => string

/**
 * A response or key as text: options as "B. text", true/false in words, blanks in order
 * (a key's alternatives for one blank joined with " / "). Empty string when there is none.
 */
export function formatAnswer(
  item: Pick<ItemOut, 'type' | 'options'>,
  value: unknown,
  t: Translate,
): string {
  if (value === null || value === undefined) return ''
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
  const option = (id: string): string => {
    const i = item.options.findIndex((o) => o.id === id)
    const found = item.options[i]
    return found ? letters.charAt(i) + '. ' + found.text : id
  }
  switch (item.type) {
    case 'single':
      return typeof value === 'string' ? option(value) : ''
    case 'multiple': {
      if (!Array.isArray(value)) return ''
      const order = (id: string) => {
        const i = item.options.findIndex((o) => o.id === id)
        return i < 0 ? item.options.length : i
      }
      return value
        .map(String)
        .sort((a, b) => order(a) - order(b))
        .map(option)
        .join('；')
    }
    case 'true_false':
      return typeof value === 'boolean' ? (value ? t('quiz.tfTrue') : t('quiz.tfFalse')) : ''
    case 'fill_blank':
      if (!Array.isArray(value)) return String(value)
      return value
        .map((blank, i) => {
          const text = Array.isArray(blank) ? blank.join(' / ') : String(blank)
          return value.length > 1 ? '(' + (i + 1) + ') ' + text : text
        })
        .join('；')
    default:
      return typeof value === 'string' ? value : JSON.stringify(value)
  }
}
