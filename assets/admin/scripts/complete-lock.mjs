// The npm registry mirror of the build machine only serves the packages for its own platform,
// so `npm install` leaves rollup's other native builds out of package-lock.json and `npm ci`
// then refuses the lock. This adds the missing optional entries (version, os, cpu, libc) —
// npm skips them on other platforms and fetches them by version where they apply.
// Run after `npm install` whenever the lock is regenerated.
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
const pk = lock.packages
const cpus = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 'riscv64', 's390x']
let added = 0
for (const [key, entry] of Object.entries(pk)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies || {})) {
    const at = `node_modules/${dep}`
    if (pk[at] || !dep.startsWith('@rollup/rollup-')) continue
    const parts = dep.slice('@rollup/rollup-'.length).split('-')
    const os = parts[0]
    const cpu = parts[1] === 'arm' ? 'arm' : cpus.find(c => parts[1] === c)
    if (!cpu) throw new Error(`unknown platform in ${dep}`)
    const e = { version, cpu: [cpu] }
    const abi = parts[2] || ''
    if (abi.startsWith('gnu')) e.libc = ['glibc']
    if (abi.startsWith('musl')) e.libc = ['musl']
    Object.assign(e, { license: 'MIT', optional: true, os: [os] })
    pk[at] = e
    added++
  }
  void key
}
// Keep npm's key order (sorted) so the file diff stays small.
lock.packages = Object.fromEntries(Object.entries(pk).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)))
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n')
console.log(`added ${added} lock entries`)
