// Runs miniprogram-ci's code-quality check (the developer tool's 代码质量 panel: package sizes,
// unused files, code that only subpackages use) on the build and prints the result as JSON.
// A separate process because the analyser leaves a file watcher running that keeps Node alive.
'use strict'

const { ci, offlineProject } = require('./ci-project.cjs')

ci.checkCodeQuality(offlineProject()).then(
  result => {
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0))
  },
  err => {
    console.error(err && err.stack ? err.stack : err)
    process.exit(1)
  },
)
