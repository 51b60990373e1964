//! One catalogue of the codes the logs store, with their Chinese names: audit operations,
//! the kinds of object they touch, and login outcomes. The audit and login log lists carry
//! the names beside the codes and the admin UI builds its filters from
//! `GET /api/v1/admin/log-catalogue`, so a clerk never reads a raw code; a unit test fails
//! when the code writes an operation that is not listed here.

use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, Result, ok};
use axum::response::Response;
use serde::Serialize;

/// Audit operation codes and their names.
pub const ACTIONS: &[(&str, &str)] = &[
    ("system.bootstrap", "系统初始化"),
    ("auth.logout", "退出登录"),
    ("auth.change_password", "修改本人密码"),
    ("org.create", "新建组织"),
    ("org.update", "修改组织"),
    ("org.delete", "删除组织"),
    ("account.create", "新建管理员账号"),
    ("account.update", "修改管理员账号"),
    ("account.reset_password", "重置管理员密码"),
    ("account.unlock", "解锁管理员账号"),
    ("session.revoke", "强制下线"),
    ("role.create", "新建角色"),
    ("role.update", "修改角色"),
    ("role.delete", "删除角色"),
    ("setting.update", "修改系统设置"),
    ("miniprogram.package", "下载小程序代码包"),
    ("dictionary.create", "新增字典项"),
    ("dictionary.update", "修改字典标签颜色"),
    ("file.upload", "上传文件"),
    ("file.delete", "删除文件"),
    ("member.create", "新增会员"),
    ("member.update", "修改会员信息"),
    ("member.transfer", "会员转移组织"),
    ("member.leave", "会员退会"),
    ("member.reveal", "查看会员完整信息"),
    ("member.export", "导出会员名单"),
    ("member.import", "会员导入任务"),
    ("member.consent", "会员同意隐私条款"),
    ("member.realname", "会员实名认证"),
    ("member.bind_phone", "会员绑定手机号"),
    ("member.export_self", "会员下载个人数据"),
    ("member.delete_self", "会员注销账号"),
    ("member.identity_confirm", "会员核验本人身份"),
    ("member.realname_release", "释放被占用的身份证号"),
    ("member.realname_dismiss", "驳回实名冲突"),
    ("membership.apply", "提交入会申请"),
    ("membership.approve", "入会申请通过"),
    ("membership.reject", "入会申请驳回"),
    ("activity.create", "新建活动"),
    ("activity.update", "修改活动"),
    ("activity.delete", "删除活动"),
    ("activity.publish", "发布活动"),
    ("activity.cancel", "取消活动"),
    ("activity.export", "导出报名名单"),
    ("activity.register", "活动报名"),
    ("activity.unregister", "取消报名"),
    ("activity.registration.approve", "报名审核通过"),
    ("activity.registration.reject", "报名审核驳回"),
    ("activity.checkin", "活动签到"),
    ("activity.review", "活动评价"),
    ("aid.type_create", "新建帮扶类型"),
    ("aid.type_update", "修改帮扶类型与审批流程"),
    ("aid.create", "填写帮扶申请"),
    ("aid.update", "修改帮扶申请"),
    ("aid.submit", "提交帮扶申请"),
    ("aid.proxy_create", "代职工申请帮扶"),
    ("aid.approve", "审批通过帮扶申请"),
    ("aid.reject", "驳回帮扶申请"),
    ("aid.return", "退回帮扶申请补充材料"),
    ("aid.reveal", "查看帮扶申请敏感信息"),
    ("aid.export", "导出帮扶申请"),
    ("aid.disburse", "登记帮扶发放"),
    ("aid.register_export", "导出困难职工档案"),
    ("aid.register_leave", "困难职工退出档案"),
    ("aid.register_review", "困难职工年度复核"),
    ("benefit.create", "新建权益"),
    ("benefit.update", "修改权益"),
    ("benefit.delete", "删除权益"),
    ("benefit.publish", "发布权益"),
    ("benefit.close", "结束权益"),
    ("benefit.claim", "领取权益"),
    ("benefit.redeem", "核销权益领取码"),
    ("benefit.export", "导出权益领取记录"),
    ("points.sign_in", "积分签到"),
    ("points.adjust", "调整会员积分"),
    ("mall_goods.create", "新建商城商品"),
    ("mall_goods.update", "修改商城商品"),
    ("mall_goods.delete", "删除商城商品"),
    ("mall.order", "积分商城下单"),
    ("mall.fulfil", "商城订单提货"),
    ("mall.cancel", "取消商城订单"),
    ("mall.export", "导出商城订单"),
    ("form_template.create", "新建报名表模板"),
    ("form_template.update", "修改报名表模板"),
    ("form_template.delete", "删除报名表模板"),
    ("news.create", "新建资讯"),
    ("news.update", "修改资讯"),
    ("news.delete", "删除资讯"),
    ("news.publish", "发布资讯"),
    ("news.withdraw", "撤回资讯"),
    ("news_category.create", "新建资讯栏目"),
    ("news_category.update", "修改资讯栏目"),
    ("news_category.delete", "删除资讯栏目"),
    ("message.send", "发送消息"),
    ("subscription.accept", "会员订阅消息授权"),
    ("member.erase_reapplied", "恢复备份时重新删除已注销会员"),
    ("backup.create", "创建数据备份"),
    ("backup.verify", "校验数据备份"),
    ("backup.download", "下载数据备份"),
    ("backup.delete", "删除数据备份"),
    ("ticket.create", "提交诉求工单"),
    ("ticket.message", "职工补充诉求"),
    ("ticket.rate", "评价诉求办理"),
    ("ticket.reopen", "重新打开诉求"),
    ("ticket.reply", "答复诉求"),
    ("ticket.transfer", "转办诉求"),
    ("ticket.escalate", "上报诉求"),
    ("ticket.resolve", "办结诉求"),
    ("ticket.export", "导出诉求工单"),
    ("ticket.category_update", "修改诉求分类答复期限"),
    ("safety.word_add", "新增敏感词"),
    ("safety.word_delete", "删除敏感词"),
    ("safety.approve", "内容审核通过"),
    ("safety.reject", "内容审核驳回"),
    ("stats.export", "导出统计表"),
];

/// Kinds of audited objects and their names.
pub const TARGETS: &[(&str, &str)] = &[
    ("system", "系统"),
    ("org", "组织"),
    ("admin", "管理员账号"),
    ("admin_session", "登录会话"),
    ("role", "角色"),
    ("setting", "系统设置"),
    ("miniprogram", "小程序"),
    ("dictionary", "字典"),
    ("file", "文件"),
    ("member", "会员"),
    ("member_import_job", "会员导入任务"),
    ("membership_application", "入会申请"),
    ("activity", "活动"),
    ("activity_registration", "活动报名"),
    ("form_template", "报名表模板"),
    ("aid_type", "帮扶类型"),
    ("aid_application", "帮扶申请"),
    ("aid_register", "困难职工档案"),
    ("benefit", "权益"),
    ("benefit_claim", "权益领取记录"),
    ("mall_goods", "商城商品"),
    ("mall_order", "商城订单"),
    ("news", "资讯"),
    ("news_category", "资讯栏目"),
    ("message", "消息"),
    ("backup", "数据备份"),
    ("ticket", "诉求工单"),
    ("ticket_category", "诉求分类"),
    ("sensitive_word", "敏感词"),
    ("moderation_item", "待审核内容"),
    ("stats", "数据统计"),
];

/// Fields of audit summaries and their names (also the values of a `fields` list, which names
/// the changed fields of an update).
pub const FIELDS: &[(&str, &str)] = &[
    ("activity_id", "活动"),
    ("admin_id", "管理员账号"),
    ("age", "年龄"),
    ("amount", "金额"),
    ("api_base", "接口地址"),
    ("appid", "小程序AppID"),
    ("application_id", "帮扶申请"),
    ("archived", "已归档（有订单，保留记录）"),
    ("at", "时间"),
    ("benefit_id", "权益"),
    ("by", "操作方"),
    ("bytes", "字节数"),
    ("category_id", "栏目"),
    ("claimant_id", "申请人"),
    ("code", "编码"),
    ("comment", "评语"),
    ("conflict_id", "实名冲突"),
    ("consents", "同意记录"),
    ("content", "内容"),
    ("content_type", "文件类型"),
    ("count", "条数"),
    ("cover_file_id", "封面"),
    ("custom_org_ids", "自定义组织"),
    ("data_scope", "数据范围"),
    ("day", "日期"),
    ("deadline_amount", "答复期限"),
    ("deadline_unit", "期限单位"),
    ("deleted_at", "删除时间"),
    ("delta", "积分变动"),
    ("destination", "存放位置"),
    ("disabled", "停用"),
    ("enabled", "启用"),
    ("encrypted", "已加密"),
    ("ends_at", "结束时间"),
    ("exported_at", "导出时间"),
    ("failed", "失败行数"),
    ("field", "字段"),
    ("fields", "修改的字段"),
    ("file", "文件"),
    ("files", "文件数"),
    ("form", "形式"),
    ("from", "原值"),
    ("gender", "性别"),
    ("generated_password", "生成的初始密码"),
    ("goods_id", "商品"),
    ("group_by", "分组方式"),
    ("held", "待审核"),
    ("id", "编号"),
    ("id_number", "身份证号"),
    ("imported", "成功行数"),
    ("job_title", "职务"),
    ("kind", "类型"),
    ("level", "级别"),
    ("masked", "已脱敏"),
    ("member", "会员"),
    ("member_id", "会员"),
    ("member_no", "会员编号"),
    ("membership_applications", "入会申请"),
    ("method", "方式"),
    ("name", "名称"),
    ("nickname", "昵称"),
    ("notified", "通知人数"),
    ("ok", "结果正常"),
    ("org_id", "组织"),
    ("parent_id", "上级组织"),
    ("period_from", "统计起始日期"),
    ("period_to", "统计截止日期"),
    ("permissions", "权限"),
    ("phone", "手机号"),
    ("place", "地点"),
    ("points", "积分"),
    ("publish_at", "发布时间"),
    ("purpose", "用途"),
    ("quantity", "数量"),
    ("rating", "评分"),
    ("reason", "原因"),
    ("refund", "退还积分"),
    ("role_ids", "角色"),
    ("root_org_id", "根组织"),
    ("rule", "命中规则"),
    ("scheduled", "定时发布"),
    ("sha256", "文件指纹"),
    ("size", "大小"),
    ("sort", "排序"),
    ("starts_at", "开始时间"),
    ("status", "状态"),
    ("step", "审批步骤"),
    ("stock", "库存"),
    ("template_ids", "订阅模板"),
    ("title", "标题"),
    ("to", "新值"),
    ("topic", "统计主题"),
    ("total", "总行数"),
    ("type_id", "帮扶类型"),
    ("username", "用户名"),
    ("version", "版本"),
    ("via", "途径"),
    ("work_unit", "工作单位"),
];

/// Login log outcomes and their names.
pub const LOGIN_REASONS: &[(&str, &str)] = &[
    ("ok", "成功"),
    ("bad_credentials", "密码错误"),
    ("locked", "账号已锁定"),
    ("disabled", "账号已停用"),
    ("rate_limited", "请求过于频繁"),
    ("password_reset", "密码已重置"),
    ("pending", "验证中"),
    ("unlocked", "管理员已解锁"),
];

fn find(list: &'static [(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    list.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// The name of an audit operation; an unknown code (from an older or newer version) is
/// shown as itself rather than hidden.
pub fn action_label(code: &str) -> String {
    find(ACTIONS, code).map_or_else(|| code.to_string(), String::from)
}

/// The name of an audited object kind.
pub fn target_label(code: &str) -> String {
    find(TARGETS, code).map_or_else(|| code.to_string(), String::from)
}

/// The name of a login outcome.
pub fn login_reason_label(code: &str) -> String {
    find(LOGIN_REASONS, code).map_or_else(|| code.to_string(), String::from)
}

/// One code with its name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Label {
    /// The stored code.
    pub code: &'static str,
    /// Its Chinese name.
    pub label: &'static str,
}

/// The whole catalogue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Catalogue {
    /// Audit operations.
    pub actions: Vec<Label>,
    /// Audited object kinds.
    pub targets: Vec<Label>,
    /// Login outcomes.
    pub login_reasons: Vec<Label>,
    /// Audit summary fields.
    pub fields: Vec<Label>,
}

fn labels(list: &'static [(&'static str, &'static str)]) -> Vec<Label> {
    list.iter()
        .map(|(code, label)| Label { code, label })
        .collect()
}

/// The log catalogue, for log filters (needs `audit:read` or `loginlog:read`).
#[utoipa::path(get, path = "/api/v1/admin/log-catalogue", tag = "审计", security(("bearer" = [])),
    responses((status = 200, body = Catalogue), (status = 403)))]
pub async fn catalogue(me: AdminAuth) -> Result<Response> {
    if !(me.has(codes::AUDIT_READ) || me.has(codes::LOGINLOG_READ)) {
        return Err(AppError::Forbidden("没有查看日志的权限".into()));
    }
    Ok(ok(Catalogue {
        actions: labels(ACTIONS),
        targets: labels(TARGETS),
        login_reasons: labels(LOGIN_REASONS),
        fields: labels(FIELDS),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation and object kind the code audits, found by reading the source: a new
    /// one without a Chinese name fails here, before a clerk ever sees it raw.
    #[test]
    fn every_audited_code_in_the_source_has_a_name() {
        let mut missing = Vec::new();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(root)];
        let mut seen = 0;
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
                continue;
            }
            // This file names the patterns it looks for; it makes no audit call.
            if p.extension().is_none_or(|e| e != "rs") || p.ends_with("system/catalogue.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for (action, target) in audited(&text) {
                seen += 1;
                if find(ACTIONS, &action).is_none() {
                    missing.push(format!("{}: action {action}", p.display()));
                }
                if let Some(t) = target
                    && find(TARGETS, &t).is_none()
                {
                    missing.push(format!("{}: target {t}", p.display()));
                }
            }
        }
        assert!(seen > 40, "the scan found only {seen} audit calls");
        assert!(missing.is_empty(), "codes without a name: {missing:#?}");
    }

    /// `(action, target)` string literals of the audit calls in `text`: the first two
    /// arguments of `Entry::success(…)` and the `action` / `target_type` fields of `Entry`
    /// struct literals.
    fn audited(text: &str) -> Vec<(String, Option<String>)> {
        let lit = |s: &str| -> Option<(String, usize)> {
            let s0 = s.trim_start();
            let skipped = s.len() - s0.len();
            let rest = s0.strip_prefix('"')?;
            let end = rest.find('"')?;
            Some((rest[..end].to_string(), skipped + end + 2))
        };
        let mut out = Vec::new();
        for (i, _) in text.match_indices("Entry::success(") {
            let after = &text[i + "Entry::success(".len()..];
            if let Some((a, n)) = lit(after) {
                let t = after[n..]
                    .trim_start()
                    .strip_prefix(',')
                    .and_then(|r| lit(r).map(|x| x.0));
                out.push((a, t));
            }
        }
        for (i, _) in text.match_indices("action: \"") {
            let after = &text[i + "action: ".len()..];
            if let Some((a, _)) = lit(after) {
                let t = text[i..]
                    .find("target_type: \"")
                    .filter(|j| *j < 200)
                    .and_then(|j| lit(&text[i + j + "target_type: ".len()..]).map(|x| x.0));
                out.push((a, t));
            }
        }
        // The catalogue's own table rows are not audit calls.
        out.retain(|(a, _)| !a.is_empty());
        out
    }

    /// Every key of an audit summary literal (`json!({"key": …})` inside an audit call) has a
    /// Chinese name, so the audit log's detail never shows a raw field name.
    #[test]
    fn every_audit_summary_field_has_a_name() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(root)];
        let mut missing = std::collections::BTreeSet::new();
        let mut seen = 0;
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") || p.ends_with("system/catalogue.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for (i, _) in text.match_indices("Entry::success(") {
                let call: String = text[i..].chars().take(400).collect();
                let Some(j) = call.find("json!({") else {
                    continue;
                };
                let body = &call[j + 7..];
                let end = body.find("})").unwrap_or(body.len());
                for part in body[..end].split(',') {
                    let k = part.trim().trim_start_matches('"');
                    if let Some(q) = k.find("\":")
                        && q > 0
                        && k[..q].chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    {
                        seen += 1;
                        if find(FIELDS, &k[..q]).is_none() {
                            missing.insert(format!("{}: {}", p.display(), &k[..q]));
                        }
                    }
                }
            }
        }
        assert!(seen > 30, "the scan found only {seen} summary fields");
        assert!(
            missing.is_empty(),
            "summary fields without a name: {missing:#?}"
        );
    }

    #[test]
    fn unknown_codes_show_as_themselves() {
        assert_eq!(action_label("member.reveal"), "查看会员完整信息");
        assert_eq!(action_label("future.thing"), "future.thing");
        assert_eq!(login_reason_label("pending"), "验证中");
    }
}
