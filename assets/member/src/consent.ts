// The texts members agree to, shown in full where they agree. A new version is a new text:
// the server keeps which version each member accepted.

/** Version of the privacy policy. */
export const PRIVACY_VERSION = '2026-01'
/** Version of the sensitive personal data notice. */
export const SENSITIVE_VERSION = '2026-01'

/** 隐私政策 (privacy policy). */
export const PRIVACY_TEXT = `工会服务隐私政策

一、我们收集的信息：为向您提供会员服务，我们会收集您的手机号码（用于登录和联系您）、微信身份标识（仅在小程序中，用于登录）、您报名活动时填写的信息以及您的签到记录。

二、信息的用途：上述信息仅用于身份识别、入会办理、活动组织、消息通知及依法依规的统计工作，不用于任何商业用途。

三、信息的存储与保护：您的信息存储在本工会的服务器上，身份证号、手机号等敏感信息加密存储，工作人员查看完整信息须经授权并留有记录。

四、信息的共享：除法律法规规定或经您同意外，我们不会向任何第三方提供您的个人信息。

五、您的权利：您可以在“我的—我的数据”中下载您的个人数据副本，也可以注销账号。注销后，您的个人信息将被删除或匿名化处理，法律法规要求保留的记录除外。

六、联系我们：如对本政策有任何疑问，请联系所在单位工会或县总工会办公室。`

/** 敏感个人信息处理告知 (sensitive data notice, PIPL art. 29–30). */
export const SENSITIVE_TEXT = `敏感个人信息处理告知

根据《中华人民共和国个人信息保护法》，身份证号码属于敏感个人信息。为办理实名登记和入会手续，我们需要处理您的姓名和身份证号码：

1. 处理目的：核实您的身份，办理入会、会籍管理及会员服务。
2. 处理方式：身份证号码加密存储，页面上仅显示部分号码；工作人员查看完整号码须经授权，每次查看均留有记录。
3. 对您的影响：不提供上述信息，您将无法完成实名登记和入会，但不影响浏览资讯和参加不限会员的活动。
4. 保存期限：在您的会籍存续期间保存；注销账号后依法删除或匿名化。

勾选同意即表示您已阅读并单独同意我们按上述方式处理您的敏感个人信息。`
