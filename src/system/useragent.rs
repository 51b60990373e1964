//! A readable browser and system name from a User-Agent header, for the login log
//! (「Chrome 120 · Windows 10」). Only the families a county office meets are told apart —
//! WeChat, the 360 and QQ browsers, Edge, Chrome, Firefox, Safari on Windows, macOS,
//! Android, iOS and Linux (incl. the domestic UOS and Kylin); anything else is 「其他」.

/// `浏览器 版本 · 系统` for `ua`; empty input gives an empty string.
pub fn describe(ua: &str) -> String {
    if ua.trim().is_empty() {
        return String::new();
    }
    format!("{} · {}", browser(ua), system(ua))
}

fn version_after<'a>(ua: &'a str, marker: &str) -> Option<&'a str> {
    let start = ua.find(marker)? + marker.len();
    let v = &ua[start..];
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    // The major version is what a person recognises.
    v[..end].split('.').next().filter(|s| !s.is_empty())
}

fn browser(ua: &str) -> String {
    let named = |name: &str, marker: &str| match version_after(ua, marker) {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    };
    if ua.contains("MicroMessenger/") {
        named("微信", "MicroMessenger/")
    } else if ua.contains("QihooBrowser") || ua.contains("QHBrowser") || ua.contains("360SE") {
        "360 浏览器".into()
    } else if ua.contains("QQBrowser/") {
        named("QQ 浏览器", "QQBrowser/")
    } else if ua.contains("Edg/") {
        named("Edge", "Edg/")
    } else if ua.contains("Firefox/") {
        named("Firefox", "Firefox/")
    } else if ua.contains("Chrome/") {
        named("Chrome", "Chrome/")
    } else if ua.contains("Safari/") && ua.contains("Version/") {
        named("Safari", "Version/")
    } else if ua.contains("curl/") {
        named("curl", "curl/")
    } else {
        "其他浏览器".into()
    }
}

fn system(ua: &str) -> String {
    if let Some(v) = version_after(ua, "Windows NT ") {
        let name = match v {
            "10" => "Windows 10/11",
            "6" => match ua
                .split("Windows NT 6.")
                .nth(1)
                .and_then(|s| s.chars().next())
            {
                Some('1') => "Windows 7",
                Some('2') | Some('3') => "Windows 8",
                _ => "Windows",
            },
            _ => "Windows",
        };
        name.into()
    } else if ua.contains("Android") {
        match version_after(ua, "Android ") {
            Some(v) => format!("Android {v}"),
            None => "Android".into(),
        }
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        match version_after(ua, "OS ") {
            Some(v) => format!("iOS {v}"),
            None => "iOS".into(),
        }
    } else if ua.contains("Mac OS X") {
        "macOS".into()
    } else if ua.contains("UOS") {
        "统信 UOS".into()
    } else if ua.contains("Kylin") {
        "麒麟".into()
    } else if ua.contains("Linux") {
        "Linux".into()
    } else {
        "其他系统".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_clients_are_named() {
        let chrome_win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36";
        assert_eq!(describe(chrome_win), "Chrome 120 · Windows 10/11");
        let edge = "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36 Edg/109.0.1518.78";
        assert_eq!(describe(edge), "Edge 109 · Windows 7");
        let wechat = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN";
        assert_eq!(describe(wechat), "微信 8 · iOS 17");
        let android = "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36";
        assert_eq!(describe(android), "Chrome 116 · Android 13");
        assert_eq!(describe(""), "");
        assert_eq!(describe("???"), "其他浏览器 · 其他系统");
    }
}
