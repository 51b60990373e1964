/// <reference types="@dcloudio/types" />
declare module '*.vue' {
  import { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, any>
  export default component
}
/** API origin baked in at build time ('' on H5: same origin). */
declare const __API_BASE__: string
/** WeChat's global API object (mini-program only). */
declare const wx: any
