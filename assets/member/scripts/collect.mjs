// Move uni's build output to the committed locations: dist/h5 (served by the binary at /h5/)
// and dist/mp-weixin (zipped by the binary for the mini-program upload).
import { cpSync, existsSync, rmSync } from 'node:fs'

const root = new URL('../dist/', import.meta.url).pathname
for (const target of ['h5', 'mp-weixin']) {
  const from = `${root}build/${target}`
  if (!existsSync(from)) throw new Error(`缺少构建输出 ${from}`)
  rmSync(`${root}${target}`, { recursive: true, force: true })
  cpSync(from, `${root}${target}`, { recursive: true })
}
rmSync(`${root}build`, { recursive: true, force: true })
