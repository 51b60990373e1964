//! The served OpenAPI document is exact enough to generate clients and to fuzz: every success
//! body is the `{data}` envelope, every error the shared `ApiError`, operation ids are unique,
//! and every parameter sits where the handler reads it.

use crate::support::*;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

async fn doc() -> Value {
    let app = spawn_app().await;
    app.call(Method::GET, "/api/openapi.json", None, None)
        .await
        .body
}

fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(*m) {
                out.push((format!("{} {path}", m.to_uppercase()), op));
            }
        }
    }
    out
}

/// Operation ids are unique across the document (clients name their functions after them).
#[tokio::test]
async fn operation_ids_are_unique() {
    let d = doc().await;
    let mut seen = BTreeSet::new();
    for (route, op) in operations(&d) {
        let id = op["operationId"].as_str().unwrap_or_default().to_string();
        assert!(!id.is_empty(), "{route} has no operationId");
        assert!(seen.insert(id.clone()), "{route}: operationId {id} repeats");
    }
}

/// Every JSON success body is the `{data: …}` envelope; every error response is `ApiError`,
/// and the statuses any route can answer (400, 429, 503; 401/403/404 for signed-in routes)
/// are listed.
#[tokio::test]
async fn responses_are_enveloped_and_errors_typed() {
    let d = doc().await;
    assert_eq!(
        d["components"]["schemas"]["ApiError"]["required"][0], "error",
        "shared error schema"
    );
    for (route, op) in operations(&d) {
        let responses = op["responses"].as_object().unwrap();
        for (status, r) in responses {
            let schema = &r["content"]["application/json"]["schema"];
            if status.starts_with('2') {
                if !schema.is_null() {
                    let resolved = match schema["$ref"].as_str() {
                        Some(r) => d.pointer(r.trim_start_matches('#')).unwrap_or(schema),
                        None => schema,
                    };
                    let props = resolved["properties"].as_object();
                    let enveloped = props.is_some_and(|p| p.len() == 1 && p.contains_key("data"));
                    assert!(
                        enveloped,
                        "{route} {status}: not the data envelope: {schema}"
                    );
                }
            } else {
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ApiError",
                    "{route} {status}: error body is not ApiError"
                );
                assert!(
                    !r["description"].as_str().unwrap_or_default().is_empty(),
                    "{route} {status}: no description"
                );
            }
        }
        for s in ["400", "429", "503"] {
            assert!(responses.contains_key(s), "{route}: {s} not listed");
        }
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            for s in ["401", "403", "404"] {
                assert!(responses.contains_key(s), "{route}: {s} not listed");
            }
        }
    }
}

/// A path parameter is in the path template, and list controls are query parameters.
#[tokio::test]
async fn parameters_are_where_the_handler_reads_them() {
    let d = doc().await;
    for (route, op) in operations(&d) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            if p["in"] == "path" {
                assert!(
                    route.contains(&format!("{{{name}}}")),
                    "{route}: path parameter {name} is not in the path"
                );
            }
            if ["page", "page_size", "q", "org_id", "cursor", "limit"].contains(&name) {
                assert_eq!(
                    p["in"], "query",
                    "{route}: {name} must be a query parameter"
                );
            }
        }
    }
}

/// No two schema types share a components name: utoipa keeps one of them silently, and the
/// document then describes the other route's body with the wrong shape (found by the fuzzer:
/// the activity and message `Stats`, the form and subscription `Template`).
#[test]
fn schema_names_are_unique_in_the_source() {
    let mut names: std::collections::BTreeMap<String, String> = Default::default();
    let mut dups = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let mut pending: Option<Option<String>> = None;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    pending = Some(None);
                } else if let Some(alias) = line
                    .strip_prefix("#[schema(as = ")
                    .and_then(|r| r.split(')').next())
                {
                    if let Some(a) = pending.as_mut() {
                        *a = Some(alias.rsplit("::").next().unwrap().to_string());
                    }
                } else if let Some(rest) = line
                    .strip_prefix("pub struct ")
                    .or_else(|| line.strip_prefix("pub enum "))
                    && let Some(alias) = pending.take()
                {
                    let ident: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let name = alias.unwrap_or(ident);
                    let at = p.display().to_string();
                    if let Some(prev) = names.insert(name.clone(), at.clone()) {
                        dups.push(format!("{name}: {prev} and {at}"));
                    }
                }
            }
        }
    }
    assert!(names.len() > 50, "the scan found the schema types");
    assert!(dups.is_empty(), "schema names used twice: {dups:#?}");
}
