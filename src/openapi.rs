//! The served OpenAPI document, made exact after utoipa generated it.
//!
//! The route annotations describe payloads; what every route shares is added here once, over
//! the whole document, so routes added later are covered without extra annotations:
//! - a JSON success body is the `{"data": …}` envelope that `error::ok` / `created` write;
//! - every error answer is the shared `ApiError` shape, and the errors any route can give
//!   (bad input, missing token, missing permission, unknown id, rate limit, full disk) are listed;
//! - operation ids are unique (utoipa uses handler names, which repeat across modules);
//! - a `201` that creates an object links to the operations on `…/{id}` of the same
//!   collection, so a stateful client (and a fuzzer) can follow it.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Name of the shared error schema in `components.schemas`.
pub const API_ERROR: &str = "ApiError";

/// HTTP methods that can carry an operation in a path item.
const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

/// The document as served: utoipa's output, finished.
pub fn served(generated: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(generated).expect("the OpenAPI document serialises");
    finish(&mut doc);
    doc
}

/// Post-process a generated document (see the module docs).
pub fn finish(doc: &mut Value) {
    add_error_schema(doc);
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let ids = unique_operation_ids(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(id) = ids.get(&(method.to_string(), path.clone())) {
                op.insert("operationId".into(), json!(id));
            }
            finish_responses(op, &schemas);
        }
    }
    add_links(doc);
}

/// The `{error: {code, message, fields?}}` body of API.md.
fn add_error_schema(doc: &mut Value) {
    let root = doc
        .as_object_mut()
        .expect("an OpenAPI document is an object");
    let components = root.entry("components").or_insert_with(|| json!({}));
    let schemas = components
        .as_object_mut()
        .expect("components is an object")
        .entry("schemas")
        .or_insert_with(|| json!({}));
    schemas.as_object_mut().expect("schemas is an object").insert(
        API_ERROR.into(),
        json!({
            "type": "object",
            "description": "错误响应：code 为英文错误码，message 为中文说明，fields 为逐字段的中文提示",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "错误码，如 validation_failed、not_found"},
                    "message": {"type": "string", "description": "中文说明"},
                    "fields": {
                        "type": "object",
                        "description": "字段名 → 中文提示（仅 validation_failed）",
                        "additionalProperties": {"type": "string"}
                    }
                }
            }}
        }),
    );
}

/// `operationId` per (method, path): the handler name when only one operation has it,
/// otherwise `<method>_<path words>` for every operation sharing it.
fn unique_operation_ids(doc: &Value) -> BTreeMap<(String, String), String> {
    let mut by_id: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                by_id
                    .entry(id)
                    .or_default()
                    .push((method.to_string(), path.clone()));
            }
        }
    }
    let mut out = BTreeMap::new();
    for (id, ops) in by_id {
        let shared = ops.len() > 1 || id.is_empty();
        for (method, path) in ops {
            let name = if shared {
                slug(&method, &path)
            } else {
                id.clone()
            };
            out.insert((method, path), name);
        }
    }
    out
}

/// `post /api/v1/admin/orgs/{id}` → `post_admin_orgs_by_id`.
fn slug(method: &str, path: &str) -> String {
    let mut s = method.to_string();
    for part in path.trim_start_matches("/api/v1").split('/') {
        if part.is_empty() {
            continue;
        }
        s.push('_');
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(p) => {
                s.push_str("by_");
                s.push_str(p);
            }
            None => s.push_str(part),
        }
    }
    s.replace(['-', '.'], "_")
}

/// Envelope the success bodies, type the error bodies, list the shared errors.
fn finish_responses(op: &mut Map<String, Value>, schemas: &Value) {
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let has_path_params = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "path"));
    let has_body = op.contains_key("requestBody");
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (status, resp) in responses.iter_mut() {
        if status.starts_with('2') {
            if let Some(schema) = resp.pointer_mut("/content/application~1json/schema")
                && !is_envelope(schema, schemas)
            {
                let inner = schema.take();
                *schema =
                    json!({"type": "object", "required": ["data"], "properties": {"data": inner}});
            }
        } else if !status.starts_with('3')
            && let Some(resp) = resp.as_object_mut()
        {
            error_response(resp, status);
        }
    }
    // The errors any route of its kind can answer, whatever its handler says.
    let mut shared = vec!["400", "429", "503"];
    if secured {
        shared.extend(["401", "403"]);
    }
    if has_path_params || secured {
        // Outside the caller's scope is answered as missing (API.md).
        shared.push("404");
    }
    if has_body {
        shared.extend(["413", "415"]);
    }
    for status in shared {
        let resp = responses
            .entry(status)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a response is an object");
        error_response(resp, status);
    }
}

/// An error response: the `ApiError` body and a Chinese description when the route gave none.
fn error_response(resp: &mut Map<String, Value>, status: &str) {
    let described = resp
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.is_empty());
    if !described {
        resp.insert("description".into(), json!(error_description(status)));
    }
    resp.insert(
        "content".into(),
        json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{API_ERROR}")}}}),
    );
}

fn error_description(status: &str) -> &'static str {
    match status {
        "400" => "请求参数或数据有误",
        "401" => "未登录或登录已失效",
        "403" => "没有权限",
        "404" => "资源不存在或不在数据范围内",
        "409" => "与当前状态冲突",
        "413" => "请求体过大",
        "415" => "不支持的内容类型",
        "423" => "账号已锁定",
        "429" => "请求过于频繁",
        "503" => "服务暂不可用（如磁盘空间不足或外部服务不可用）",
        _ => "错误",
    }
}

/// True when `schema` already is the `{data}` envelope (inline or by reference).
fn is_envelope(schema: &Value, schemas: &Value) -> bool {
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/components/schemas/")
            .and_then(|n| schemas.get(n))
            .unwrap_or(schema),
        None => schema,
    };
    resolved
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.len() == 1 && p.contains_key("data"))
}

/// Links from a `201` of `POST <collection>` to the operations on `<collection>/{id}`.
fn add_links(doc: &mut Value) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return;
    };
    let mut plan: Vec<(String, Map<String, Value>)> = Vec::new();
    for (path, item) in paths {
        let Some(create) = item.get("post") else {
            continue;
        };
        let Some(schema) = create.pointer("/responses/201/content/application~1json/schema") else {
            continue;
        };
        if !has_data_id(schema, doc) {
            continue;
        }
        let Some(target) = paths.get(&format!("{path}/{{id}}")) else {
            continue;
        };
        let mut links = Map::new();
        for method in METHODS {
            if let Some(id) = target
                .get(*method)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
            {
                links.insert(
                    format!("{}{}", method[..1].to_uppercase(), &method[1..]),
                    json!({"operationId": id, "parameters": {"path.id": "$response.body#/data/id"}}),
                );
            }
        }
        if !links.is_empty() {
            plan.push((path.clone(), links));
        }
    }
    for (path, links) in plan {
        if let Some(resp) = doc
            .pointer_mut(&format!(
                "/paths/{}/post/responses/201",
                path.replace('~', "~0").replace('/', "~1")
            ))
            .and_then(Value::as_object_mut)
        {
            resp.insert("links".into(), Value::Object(links));
        }
    }
}

/// True when the enveloped schema's `data` has an integer `id`.
fn has_data_id(schema: &Value, doc: &Value) -> bool {
    let data = &schema["properties"]["data"];
    let resolved = match data.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| doc.pointer(p))
            .unwrap_or(data),
        None => data,
    };
    resolved["properties"]["id"]["type"] == "integer"
        || resolved["properties"]["id"]["type"] == json!(["integer"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/api/v1/admin/things": {
                    "get": {"operationId": "list", "responses": {"200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}},
                    "post": {"operationId": "create", "security": [{"bearer": []}], "requestBody": {},
                        "responses": {"201": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}, "409": {"description": ""}}}
                },
                "/api/v1/admin/things/{id}": {
                    "get": {"operationId": "get", "parameters": [{"name": "id", "in": "path"}], "responses": {"200": {"description": ""}}},
                    "delete": {"operationId": "list", "parameters": [{"name": "id", "in": "path"}], "responses": {}}
                }
            },
            "components": {"schemas": {"Thing": {"type": "object", "properties": {"id": {"type": "integer"}}}}}
        })
    }

    #[test]
    fn success_bodies_are_enveloped_once() {
        let mut d = doc();
        finish(&mut d);
        let s = &d["paths"]["/api/v1/admin/things"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        assert_eq!(
            s["properties"]["data"]["$ref"],
            "#/components/schemas/Thing"
        );
        let mut again = d.clone();
        finish(&mut again);
        assert_eq!(again, d, "finishing twice changes nothing");
    }

    #[test]
    fn errors_share_one_schema_and_shared_statuses_are_listed() {
        let mut d = doc();
        finish(&mut d);
        let post = &d["paths"]["/api/v1/admin/things"]["post"]["responses"];
        for s in [
            "400", "401", "403", "404", "409", "413", "415", "429", "503",
        ] {
            assert_eq!(
                post[s]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ApiError",
                "{s}"
            );
            assert!(!post[s]["description"].as_str().unwrap().is_empty());
        }
        let get = &d["paths"]["/api/v1/admin/things"]["get"]["responses"];
        assert!(get.get("401").is_none(), "a public route needs no token");
        assert!(get.get("413").is_none(), "no body, no 413");
    }

    #[test]
    fn repeated_operation_ids_become_unique() {
        let mut d = doc();
        finish(&mut d);
        assert_eq!(
            d["paths"]["/api/v1/admin/things"]["get"]["operationId"],
            "get_admin_things"
        );
        assert_eq!(
            d["paths"]["/api/v1/admin/things/{id}"]["delete"]["operationId"],
            "delete_admin_things_by_id"
        );
        assert_eq!(
            d["paths"]["/api/v1/admin/things"]["post"]["operationId"],
            "create"
        );
    }

    #[test]
    fn a_create_links_to_the_object_routes() {
        let mut d = doc();
        finish(&mut d);
        let links = &d["paths"]["/api/v1/admin/things"]["post"]["responses"]["201"]["links"];
        assert_eq!(links["Get"]["operationId"], "get");
        assert_eq!(
            links["Get"]["parameters"]["path.id"],
            "$response.body#/data/id"
        );
        assert_eq!(links["Delete"]["operationId"], "delete_admin_things_by_id");
    }
}
