// miniprogram-ci's project for the committed build, set up to work without WeChat's servers:
// a CI project normally fetches the AppID's attributes (limits such as the 2 MB main package)
// with the upload key; here the attributes are miniprogram-ci's own defaults, the values it
// falls back to when that request fails, and the key is never used (nothing is uploaded).
'use strict'

const ci = require('miniprogram-ci')
const { distRoot } = require('./harness.cjs')

/** A `ci.Project` over the build under test that needs no network and no upload key. */
function offlineProject(root = distRoot()) {
  return new ci.Project({
    appid: 'touristappid',
    type: 'miniProgram',
    projectPath: root,
    privateKey: 'unused: this project is only analysed, never uploaded',
    ignores: [],
    attr: async () => ci.DefaultProjectAttr,
  })
}

module.exports = { ci, offlineProject }
