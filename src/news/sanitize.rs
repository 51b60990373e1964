//! Article HTML: sanitised with ammonia (no scripts, no event handlers, images only from our
//! own `/files/` or configured hosts) and reduced to plain text for search.

use std::collections::HashSet;

/// Clean article HTML. `image_hosts` are the extra hosts `<img src>` may point at.
pub fn clean(html: &str, image_hosts: &[String]) -> String {
    let hosts: HashSet<String> = image_hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
    let mut b = ammonia::Builder::default();
    b.add_tags(["figure", "figcaption", "section"])
        .add_tag_attributes("img", ["width", "height"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        .attribute_filter(move |element, attribute, value| {
            if element == "img" && attribute == "src" {
                return image_allowed(value, &hosts).then(|| value.into());
            }
            Some(value.into())
        });
    b.clean(html).to_string()
}

/// Our own `/files/…` path, or an http(s) URL on an allowed host.
fn image_allowed(src: &str, hosts: &HashSet<String>) -> bool {
    let s = src.trim();
    if s.starts_with("/files/") && !s.contains("..") {
        return true;
    }
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    // No credentials (`user@host`) and no port tricks: compare the bare host.
    if host.contains('@') {
        return false;
    }
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    !host.is_empty() && hosts.contains(&host)
}

/// Plain text of sanitised HTML: tags dropped (block ends become spaces), entities decoded.
pub fn text_of(clean_html: &str) -> String {
    let mut out = String::with_capacity(clean_html.len());
    let mut in_tag = false;
    for c in clean_html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                out.push(' ');
            }
            (true, '>') => in_tag = false,
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_never_survive() {
        let dirty = r#"<p onclick="x()">工会<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">链接</a><iframe src="https://evil"></iframe><style>p{}</style></p>"#;
        let c = clean(dirty, &[]);
        for bad in [
            "<script",
            "onerror",
            "onclick",
            "javascript:",
            "<iframe",
            "<style",
        ] {
            assert!(!c.to_lowercase().contains(bad), "{bad} in {c}");
        }
        assert!(c.contains("工会"));
    }

    #[test]
    fn images_only_from_our_files_or_allowed_hosts() {
        let hosts = vec!["img.example.cn".to_string()];
        let c = clean(
            r#"<img src="/files/12"><img src="https://img.example.cn/a.png"><img src="https://evil.example/a.png"><img src="https://img.example.cn@evil.example/a.png">"#,
            &hosts,
        );
        assert!(c.contains(r#"src="/files/12""#), "{c}");
        assert!(c.contains("https://img.example.cn/a.png"), "{c}");
        assert!(!c.contains("evil.example"), "{c}");
    }

    #[test]
    fn text_is_extracted_and_decoded() {
        let c = clean("<p>困难职工&amp;劳模</p><p>帮扶&lt;活动&gt;</p>", &[]);
        assert_eq!(text_of(&c), "困难职工&劳模 帮扶<活动>");
    }
}
