// Write .br and .gz siblings of text files in dist/ so the server can send them as-is.
// Deterministic: fixed compression levels, no timestamps (gzip mtime is 0 in zlib).
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, gzipSync, constants } from 'node:zlib'

const root = new URL('../' + (process.argv[2] || 'dist') + '/', import.meta.url).pathname
const text = /\.(js|mjs|css|html|svg|json|txt)$/
function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) { walk(p); continue }
    if (!text.test(name)) continue
    const buf = readFileSync(p)
    if (buf.length < 1024) continue
    writeFileSync(p + '.br', brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
    writeFileSync(p + '.gz', gzipSync(buf, { level: 9 }))
  }
}
walk(root)
