// Element Plus registered per component (not `app.use(ElementPlus)`), with each component's
// own stylesheet: only what the pages use is bundled, which keeps the first load small.
// A page using a new `<el-…>` tag needs it added here (the e2e run fails on the unknown tag).
import type { App, Component } from 'vue'
import {
  ElAlert, ElAside, ElBadge, ElBreadcrumb, ElBreadcrumbItem, ElButton, ElButtonGroup, ElCard, ElCheckbox, ElCol,
  ElConfigProvider, ElContainer, ElDatePicker, ElDescriptions, ElDescriptionsItem, ElDialog, ElDivider, ElDrawer,
  ElDropdown, ElDropdownItem, ElDropdownMenu, ElEmpty, ElForm, ElFormItem, ElHeader, ElIcon, ElImage, ElInput, ElInputNumber,
  ElLink, ElMain, ElMenu, ElMenuItem, ElOption, ElPagination, ElProgress, ElRadio, ElRadioGroup, ElResult, ElRow,
  ElScrollbar, ElSelect, ElStatistic, ElStep, ElSteps, ElSubMenu, ElSwitch, ElTabPane, ElTable, ElTableColumn, ElTabs,
  ElTag, ElTooltip, ElTree, ElTreeSelect, ElLoading,
} from 'element-plus'
import {
  ArrowDown, ArrowUp, Back, Bell, Calendar, ChatDotRound, Check, Close, DataAnalysis, Delete, Download, Edit, Expand, Fold, Lock, Monitor, Odometer, Picture,
  Plus, Promotion, Reading, Refresh, Search, Setting, Switch, Top, Upload, User, View,
} from '@element-plus/icons-vue'
import 'element-plus/theme-chalk/base.css'
import 'element-plus/theme-chalk/el-alert.css'
import 'element-plus/theme-chalk/el-aside.css'
import 'element-plus/theme-chalk/el-badge.css'
import 'element-plus/theme-chalk/el-breadcrumb.css'
import 'element-plus/theme-chalk/el-breadcrumb-item.css'
import 'element-plus/theme-chalk/el-button.css'
import 'element-plus/theme-chalk/el-button-group.css'
import 'element-plus/theme-chalk/el-card.css'
import 'element-plus/theme-chalk/el-checkbox.css'
import 'element-plus/theme-chalk/el-col.css'
import 'element-plus/theme-chalk/el-container.css'
import 'element-plus/theme-chalk/el-date-picker.css'
import 'element-plus/theme-chalk/el-date-picker-panel.css'
import 'element-plus/theme-chalk/el-descriptions.css'
import 'element-plus/theme-chalk/el-descriptions-item.css'
import 'element-plus/theme-chalk/el-dialog.css'
import 'element-plus/theme-chalk/el-divider.css'
import 'element-plus/theme-chalk/el-drawer.css'
import 'element-plus/theme-chalk/el-dropdown.css'
import 'element-plus/theme-chalk/el-dropdown-item.css'
import 'element-plus/theme-chalk/el-dropdown-menu.css'
import 'element-plus/theme-chalk/el-empty.css'
import 'element-plus/theme-chalk/el-form.css'
import 'element-plus/theme-chalk/el-form-item.css'
import 'element-plus/theme-chalk/el-header.css'
import 'element-plus/theme-chalk/el-icon.css'
import 'element-plus/theme-chalk/el-image.css'
import 'element-plus/theme-chalk/el-image-viewer.css'
import 'element-plus/theme-chalk/el-input.css'
import 'element-plus/theme-chalk/el-input-number.css'
import 'element-plus/theme-chalk/el-link.css'
import 'element-plus/theme-chalk/el-loading.css'
import 'element-plus/theme-chalk/el-main.css'
import 'element-plus/theme-chalk/el-menu.css'
import 'element-plus/theme-chalk/el-menu-item.css'
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-message-box.css'
import 'element-plus/theme-chalk/el-option.css'
import 'element-plus/theme-chalk/el-overlay.css'
import 'element-plus/theme-chalk/el-pagination.css'
import 'element-plus/theme-chalk/el-popper.css'
import 'element-plus/theme-chalk/el-progress.css'
import 'element-plus/theme-chalk/el-radio.css'
import 'element-plus/theme-chalk/el-radio-group.css'
import 'element-plus/theme-chalk/el-result.css'
import 'element-plus/theme-chalk/el-row.css'
import 'element-plus/theme-chalk/el-scrollbar.css'
import 'element-plus/theme-chalk/el-select.css'
import 'element-plus/theme-chalk/el-statistic.css'
import 'element-plus/theme-chalk/el-step.css'
import 'element-plus/theme-chalk/el-steps.css'
import 'element-plus/theme-chalk/el-sub-menu.css'
import 'element-plus/theme-chalk/el-switch.css'
import 'element-plus/theme-chalk/el-tab-pane.css'
import 'element-plus/theme-chalk/el-table.css'
import 'element-plus/theme-chalk/el-table-column.css'
import 'element-plus/theme-chalk/el-tabs.css'
import 'element-plus/theme-chalk/el-tag.css'
import 'element-plus/theme-chalk/el-tooltip.css'
import 'element-plus/theme-chalk/el-tree.css'
import 'element-plus/theme-chalk/el-tree-select.css'

const components: Component[] = [
  ElAlert, ElAside, ElBadge, ElBreadcrumb, ElBreadcrumbItem, ElButton, ElButtonGroup, ElCard, ElCheckbox, ElCol,
  ElConfigProvider, ElContainer, ElDatePicker, ElDescriptions, ElDescriptionsItem, ElDialog, ElDivider, ElDrawer,
  ElDropdown, ElDropdownItem, ElDropdownMenu, ElEmpty, ElForm, ElFormItem, ElHeader, ElIcon, ElImage, ElInput, ElInputNumber,
  ElLink, ElMain, ElMenu, ElMenuItem, ElOption, ElPagination, ElProgress, ElRadio, ElRadioGroup, ElResult, ElRow,
  ElScrollbar, ElSelect, ElStatistic, ElStep, ElSteps, ElSubMenu, ElSwitch, ElTabPane, ElTable, ElTableColumn, ElTabs,
  ElTag, ElTooltip, ElTree, ElTreeSelect,
]
// Icons are named by string in templates (`icon="Plus"`, menu.ts), so they are registered by name.
const icons: Record<string, Component> = {
  ArrowDown, ArrowUp, Back, Bell, Calendar, ChatDotRound, Check, Close, DataAnalysis, Delete, Download, Edit, Expand, Fold, Lock, Monitor, Odometer, Picture,
  Plus, Promotion, Reading, Refresh, Search, Setting, Switch, Top, Upload, User, View,
}

/** Register the Element Plus components, the loading directive and the icons the UI uses. */
export function installElement(app: App) {
  for (const c of components) app.use(c as any)
  app.use(ElLoading)
  for (const [name, c] of Object.entries(icons)) app.component(name, c)
}
