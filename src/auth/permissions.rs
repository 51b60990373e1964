//! The permission catalog: every code a role can hold, with its Chinese name and group.

use serde::Serialize;

/// One permission.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Permission {
    /// Code such as `org:write`.
    pub code: &'static str,
    /// Chinese name.
    pub name: &'static str,
    /// Group shown in the role editor.
    pub group: &'static str,
}

const fn p(code: &'static str, name: &'static str, group: &'static str) -> Permission {
    Permission { code, name, group }
}

/// Every permission the system knows.
pub const CATALOG: &[Permission] = &[
    p("org:read", "查看组织", "系统管理"),
    p("org:write", "管理组织", "系统管理"),
    p("account:read", "查看管理员账号", "系统管理"),
    p("account:write", "管理管理员账号", "系统管理"),
    p("role:read", "查看角色", "系统管理"),
    p("role:write", "管理角色与权限", "系统管理"),
    p("audit:read", "查看审计日志", "安全审计"),
    p("loginlog:read", "查看登录日志", "安全审计"),
    p("file:read", "下载私有文件", "文件"),
    p("file:write", "上传与删除文件", "文件"),
    p("member:read", "查看会员", "会员管理"),
    p("member:write", "编辑、新增、转移会员", "会员管理"),
    p("member:review", "审核入会申请", "会员管理"),
    p("member:reveal", "查看会员完整身份证号与手机号", "会员管理"),
    p("member:export", "导出会员", "会员管理"),
    p("member:import", "导入会员", "会员管理"),
    p("activity:read", "查看活动与报名", "活动管理"),
    p("activity:write", "管理活动与报名表单", "活动管理"),
    p("activity:review", "审核活动报名", "活动管理"),
    p("activity:checkin", "活动现场签到码", "活动管理"),
    p("activity:export", "导出活动报名", "活动管理"),
    p(
        "benefit:read",
        "查看权益、领取记录、积分商城订单",
        "权益与积分",
    ),
    p("benefit:write", "管理权益项与积分商城商品", "权益与积分"),
    p(
        "benefit:redeem",
        "现场核销权益领取码与商城提货码",
        "权益与积分",
    ),
    p("benefit:export", "导出权益领取记录与商城订单", "权益与积分"),
    p("points:adjust", "调整会员积分", "权益与积分"),
    p("ticket:read", "查看职工诉求工单与统计", "互动"),
    p("ticket:reply", "回复、转办、上报、办结职工诉求工单", "互动"),
    p("ticket:export", "导出职工诉求工单", "互动"),
    p(
        "ticket:category",
        "设置诉求分类的答复期限（须覆盖全部组织）",
        "互动",
    ),
    p(
        "safety:manage",
        "内容安全（敏感词维护须覆盖全部组织、内容审核）",
        "互动",
    ),
    p("aid:read", "查看帮扶申请与困难职工档案", "帮扶服务"),
    p(
        "aid:approve",
        "审批帮扶申请（本组织负责的审批步骤）",
        "帮扶服务",
    ),
    p(
        "aid:write",
        "代职工提交帮扶申请、登记发放、管理困难职工档案",
        "帮扶服务",
    ),
    p(
        "aid:reveal",
        "查看帮扶申请中的收入、健康与家庭成员身份证号",
        "帮扶服务",
    ),
    p("aid:export", "导出帮扶申请与困难职工档案", "帮扶服务"),
    p(
        "aid:type",
        "维护帮扶类型与审批流程（须覆盖全部组织）",
        "帮扶服务",
    ),
    p("news:read", "查看新闻", "新闻与消息"),
    p("news:write", "编辑、发布新闻与栏目", "新闻与消息"),
    p("message:read", "查看消息与投递记录", "新闻与消息"),
    p("message:write", "发送站内消息", "新闻与消息"),
    p("setting:read", "查看系统设置", "系统管理"),
    p(
        "setting:write",
        "修改系统设置（微信、短信、订阅消息模板）",
        "系统管理",
    ),
    p(
        "backup:manage",
        "数据备份（创建、校验、下载、删除；须覆盖全部组织）",
        "系统管理",
    ),
    p("miniprogram:download", "下载小程序代码包", "系统管理"),
    p("stats:read", "查看数据统计并导出统计表", "数据统计"),
];

/// True when `code` is in the catalog.
pub fn exists(code: &str) -> bool {
    CATALOG.iter().any(|p| p.code == code)
}

/// Permission codes as constants, so a typo is a compile error.
pub mod codes {
    /// View orgs.
    pub const ORG_READ: &str = "org:read";
    /// Manage orgs.
    pub const ORG_WRITE: &str = "org:write";
    /// View staff accounts.
    pub const ACCOUNT_READ: &str = "account:read";
    /// Manage staff accounts.
    pub const ACCOUNT_WRITE: &str = "account:write";
    /// View roles.
    pub const ROLE_READ: &str = "role:read";
    /// Manage roles.
    pub const ROLE_WRITE: &str = "role:write";
    /// View the audit log.
    pub const AUDIT_READ: &str = "audit:read";
    /// View the login log.
    pub const LOGINLOG_READ: &str = "loginlog:read";
    /// Download private files.
    pub const FILE_READ: &str = "file:read";
    /// Upload and delete files.
    pub const FILE_WRITE: &str = "file:write";
    /// View members (masked).
    pub const MEMBER_READ: &str = "member:read";
    /// Edit, add and transfer members.
    pub const MEMBER_WRITE: &str = "member:write";
    /// Review membership applications.
    pub const MEMBER_REVIEW: &str = "member:review";
    /// Reveal full ID numbers and phones (audited).
    pub const MEMBER_REVEAL: &str = "member:reveal";
    /// Export members.
    pub const MEMBER_EXPORT: &str = "member:export";
    /// Import members.
    pub const MEMBER_IMPORT: &str = "member:import";
    /// View activities and registrations.
    pub const ACTIVITY_READ: &str = "activity:read";
    /// Manage activities and registration form templates.
    pub const ACTIVITY_WRITE: &str = "activity:write";
    /// Approve or reject registrations.
    pub const ACTIVITY_REVIEW: &str = "activity:review";
    /// Show the rotating check-in code.
    pub const ACTIVITY_CHECKIN: &str = "activity:checkin";
    /// Export registrations.
    pub const ACTIVITY_EXPORT: &str = "activity:export";
    /// View benefits, claims and mall orders.
    pub const BENEFIT_READ: &str = "benefit:read";
    /// Manage benefits and mall goods.
    pub const BENEFIT_WRITE: &str = "benefit:write";
    /// Redeem claim codes and fulfil mall orders at the counter.
    pub const BENEFIT_REDEEM: &str = "benefit:redeem";
    /// Export claims and mall orders.
    pub const BENEFIT_EXPORT: &str = "benefit:export";
    /// Adjust a member's points.
    pub const POINTS_ADJUST: &str = "points:adjust";
    /// View tickets and their statistics.
    pub const TICKET_READ: &str = "ticket:read";
    /// Reply to, transfer, escalate and resolve tickets.
    pub const TICKET_REPLY: &str = "ticket:reply";
    /// Export tickets.
    pub const TICKET_EXPORT: &str = "ticket:export";
    /// Change the categories' reply deadlines (whole-tree scope only).
    pub const TICKET_CATEGORY: &str = "ticket:category";
    /// Keep the sensitive-word list (whole tree) and moderate held content (in scope).
    pub const SAFETY_MANAGE: &str = "safety:manage";
    /// View aid applications and the hardship register.
    pub const AID_READ: &str = "aid:read";
    /// Decide the approval steps of the caller's org.
    pub const AID_APPROVE: &str = "aid:approve";
    /// File on a worker's behalf, record disbursements, keep the register.
    pub const AID_WRITE: &str = "aid:write";
    /// Reveal income, health and family ID numbers (audited).
    pub const AID_REVEAL: &str = "aid:reveal";
    /// Export applications and the register.
    pub const AID_EXPORT: &str = "aid:export";
    /// Edit aid types and their flows (whole-tree scope only).
    pub const AID_TYPE: &str = "aid:type";
    /// View news.
    pub const NEWS_READ: &str = "news:read";
    /// Write, publish and withdraw news; manage categories.
    pub const NEWS_WRITE: &str = "news:write";
    /// View messages, their statistics and the delivery log.
    pub const MESSAGE_READ: &str = "message:read";
    /// Send in-app messages.
    pub const MESSAGE_WRITE: &str = "message:write";
    /// View settings.
    pub const SETTING_READ: &str = "setting:read";
    /// Change settings (WeChat, SMS, subscription templates).
    pub const SETTING_WRITE: &str = "setting:write";
    /// Make, verify, download and delete backups (whole-tree scope only).
    pub const BACKUP_MANAGE: &str = "backup:manage";
    /// Download the mini-program code package.
    pub const MINIPROGRAM_DOWNLOAD: &str = "miniprogram:download";
    /// View and export statistics (aggregates only, within scope).
    pub const STATS_READ: &str = "stats:read";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_constants_exist() {
        let mut seen = std::collections::HashSet::new();
        for p in CATALOG {
            assert!(seen.insert(p.code), "duplicate {}", p.code);
        }
        for c in [codes::ORG_READ, codes::FILE_WRITE, codes::AUDIT_READ] {
            assert!(exists(c));
        }
    }
}
