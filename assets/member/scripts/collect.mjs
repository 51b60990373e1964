// Move uni's build output to the committed locations: dist/h5 (served by the binary at /h5/)
// and dist/mp-weixin (zipped by the binary for the mini-program upload). The H5 framework CSS
// points a few decorative shadows at DCloud's CDN; the install is offline and the CSP allows
// only this origin, so those references are dropped. Then the H5 text files are precompressed.
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const root = new URL('../dist/', import.meta.url).pathname
for (const target of ['h5', 'mp-weixin']) {
  const from = `${root}build/${target}`
  if (!existsSync(from)) throw new Error(`缺少构建输出 ${from}`)
  rmSync(`${root}${target}`, { recursive: true, force: true })
  cpSync(from, `${root}${target}`, { recursive: true })
}
rmSync(`${root}build`, { recursive: true, force: true })

const CDN = /url\((['"]?)https:\/\/cdn\.dcloud\.net\.cn\/[^)'"]*\1\)/g
const text = /\.(js|mjs|css|html|svg|json|txt)$/
function walk(dir, fn) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, fn)
    else fn(p, name)
  }
}
walk(`${root}h5`, (p, name) => {
  if (!/\.(css|js)$/.test(name)) return
  const s = readFileSync(p, 'utf8')
  if (CDN.test(s)) writeFileSync(p, s.replace(CDN, 'none'))
})
// Deterministic: fixed compression levels, no timestamps (gzip mtime is 0 in zlib).
walk(`${root}h5`, (p, name) => {
  if (!text.test(name)) return
  const buf = readFileSync(p)
  if (buf.length < 1024) return
  writeFileSync(p + '.br', brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
  writeFileSync(p + '.gz', gzipSync(buf, { level: 9 }))
})
