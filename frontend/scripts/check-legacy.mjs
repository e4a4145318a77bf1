// Fails when any JavaScript file in dist/ uses syntax newer than ES2018 (optional chaining,
// nullish coalescing, optional catch binding, dynamic import(), import.meta, class fields, ...).
// Chrome 69-class WebViews (WeChat/DingTalk in-app browsers) must be able to parse all of it.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'acorn'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

function scriptsInHtml(html) {
  const found = []
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi
  let m
  while ((m = re.exec(html))) {
    if (!/(^|\s)src=/.test(m[1]) && m[2].trim()) found.push({ code: m[2], module: /type=["']?module/.test(m[1]) })
  }
  return found
}

if (!existsSync(dist)) {
  console.error('check:legacy: dist/ does not exist; run `npm run build` first')
  process.exit(1)
}

const files = walk(dist)
const js = files.filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))
const failures = []
let checked = 0

function check(label, code, sourceType) {
  checked += 1
  try {
    parse(code, { ecmaVersion: 2018, sourceType, allowHashBang: false })
  } catch (err) {
    const pos = err.pos ?? 0
    const excerpt = code.slice(Math.max(0, pos - 60), pos + 60).replace(/\s+/g, ' ')
    failures.push(`${label}: ${err.message}\n    …${excerpt}…`)
  }
}

for (const file of js) {
  const code = readFileSync(file, 'utf8')
  // Emitted chunks are classic scripts (System.register), so they are parsed as scripts: an ES
  // module file (import/export statements) fails here too, as it would in a nomodule engine.
  check(relative(root, file), code, 'script')
}
for (const file of files.filter((f) => f.endsWith('.html'))) {
  scriptsInHtml(readFileSync(file, 'utf8')).forEach((s, i) =>
    check(`${relative(root, file)} <script #${i + 1}>`, s.code, s.module ? 'module' : 'script'),
  )
}

if (js.length === 0) failures.push('no .js files found in dist/')
if (failures.length) {
  console.error(`check:legacy: ${failures.length} problem(s) (ecmaVersion 2018):`)
  for (const f of failures) console.error('  ' + f)
  process.exit(1)
}
console.log(`check:legacy: ${checked} script(s) in dist/ parse as ES2018 — ok`)
