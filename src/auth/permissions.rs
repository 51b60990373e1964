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
