//! Facts declared once in code, and the documents that must follow them: the filter fields
//! (`shared::filter::FIELDS`) and the error table (`shared::error::Code`) against the OpenAPI
//! document and the README. Run with `VITRINE_BLESS=1` to rewrite the generated filter parts after
//! changing a field; without it, any difference fails.

#![expect(clippy::unwrap_used, reason = "test code")]

use std::path::PathBuf;

use serde_json::{Value, json};
use shared::filter::{FIELDS, FieldKind, FilterField};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bless() -> bool {
    std::env::var_os("VITRINE_BLESS").is_some_and(|v| v == "1")
}

/// `min_price` → `MinPrice`: the component name of a query parameter.
fn component(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn id_schema() -> Value {
    json!({"type": "string", "maxLength": 128, "pattern": "^[^\\p{Cc}]*$"})
}

/// The value's JSON Schema as a body field takes it.
fn schema(f: &FilterField) -> Value {
    match f.kind {
        FieldKind::Id => id_schema(),
        FieldKind::Price => json!({"type": "number", "minimum": 0}),
        FieldKind::Flag => json!({"type": "boolean", "default": false}),
        FieldKind::IdList => json!({"type": "array", "maxItems": 200, "items": id_schema()}),
    }
}

/// The query parameter component.
fn parameter(f: &FilterField) -> Value {
    let mut p = json!({
        "name": f.name,
        "in": "query",
        "required": false,
        "description": match f.kind {
            FieldKind::Flag => format!("{} (`true`/`1` or `false`/`0`).", f.description.trim_end_matches('.')),
            FieldKind::IdList => format!("{} Comma-separated.", f.description),
            _ => f.description.to_owned(),
        },
        "schema": schema(f),
    });
    if f.kind == FieldKind::IdList {
        p["style"] = json!("form");
        p["explode"] = json!(false);
    }
    p
}

/// The body property (widgets, cart requests).
fn property(f: &FilterField) -> Value {
    let mut p = schema(f);
    p["description"] = json!(f.description);
    p
}

fn readme_table() -> String {
    let mut out = String::from("| filter | value | what |\n|---|---|---|\n");
    for f in FIELDS {
        let kind = match f.kind {
            FieldKind::Id => "text",
            FieldKind::Price => "number ≥ 0",
            FieldKind::Flag => "`true` / `false`",
            FieldKind::IdList => "ids (query: `a,b`; body: array)",
        };
        out.push_str(&format!("| `{}` | {kind} | {} |\n", f.name, f.description));
    }
    out
}

/// Replaces the balanced `{…}` value of `"key": {` found after `after` in `text`.
fn replace_object(text: &mut String, after: &str, key: &str, value: &Value, indent: usize) {
    let from = text.find(after).unwrap();
    let needle = format!("\"{key}\": {{");
    let start = from + text[from..].find(&needle).unwrap() + needle.len() - 1;
    let mut depth = 0;
    let mut end = start;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = start + i + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    let pretty = serde_json::to_string_pretty(value).unwrap();
    let pad = " ".repeat(indent);
    let body = pretty.replace('\n', &format!("\n{pad}"));
    text.replace_range(start..end, &body);
}

#[test]
fn openapi_filter_parameters_and_bodies_follow_the_fields() {
    let path = root().join("edge/openapi.json");
    let mut text = std::fs::read_to_string(&path).unwrap();
    if bless() {
        for f in FIELDS {
            replace_object(
                &mut text,
                "\"parameters\": {",
                &component(f.name),
                &parameter(f),
                6,
            );
            for body in ["\"CartRequest\": {", "\"Widget\": {"] {
                replace_object(&mut text, body, f.name, &property(f), 10);
            }
        }
        std::fs::write(&path, &text).unwrap();
    }
    let doc: Value = serde_json::from_str(&text).unwrap();
    for f in FIELDS {
        assert_eq!(
            doc["components"]["parameters"][component(f.name)],
            parameter(f),
            "components.parameters.{} differs from FIELDS (VITRINE_BLESS=1 rewrites it)",
            component(f.name)
        );
        for body in ["CartRequest", "Widget"] {
            assert_eq!(
                doc["components"]["schemas"][body]["properties"][f.name],
                property(f),
                "{body}.{} differs from FIELDS (VITRINE_BLESS=1 rewrites it)",
                f.name
            );
        }
    }
    // Every operation that takes one filter takes them all.
    let refs: Vec<String> = FIELDS
        .iter()
        .map(|f| format!("#/components/parameters/{}", component(f.name)))
        .collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(params) = op["parameters"].as_array() else {
                continue;
            };
            let has: Vec<&str> = params.iter().filter_map(|p| p["$ref"].as_str()).collect();
            if refs.iter().any(|r| has.contains(&r.as_str())) && !path.starts_with("/v1/search") {
                for r in &refs {
                    assert!(has.contains(&r.as_str()), "{method} {path} lacks {r}");
                }
            }
        }
    }
}

#[test]
fn readme_filter_table_follows_the_fields() {
    let path = root().join("README.md");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let (open, close) = (
        "<!-- filter-fields:start -->\n",
        "<!-- filter-fields:end -->",
    );
    let start = text.find(open).unwrap() + open.len();
    let mut end = text.find(close).unwrap();
    if bless() {
        text.replace_range(start..end, &readme_table());
        std::fs::write(&path, &text).unwrap();
        end = text.find(close).unwrap();
    }
    assert_eq!(
        &text[start..end],
        readme_table(),
        "the README's filter table differs from FIELDS (VITRINE_BLESS=1 rewrites it)"
    );
}

#[test]
fn openapi_error_codes_follow_the_error_table() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("edge/openapi.json")).unwrap())
            .unwrap();
    let documented: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let table: Vec<&str> = shared::Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        documented, table,
        "ErrorCode in edge/openapi.json vs shared::error::Code"
    );
    let text = doc["components"]["schemas"]["ErrorCode"]["description"]
        .as_str()
        .unwrap();
    for c in shared::Code::ALL {
        assert!(
            text.contains(&format!("- `{}` ({})", c.as_str(), c.status())),
            "ErrorCode's description lacks `{}` ({})",
            c.as_str(),
            c.status()
        );
    }
}

#[test]
fn openapi_event_types_follow_the_schema() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("edge/openapi.json")).unwrap())
            .unwrap();
    let schema = &doc["components"]["schemas"]["EventType"];
    let documented: Vec<&str> = schema["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let types: Vec<&str> = shared::EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        documented, types,
        "EventType in edge/openapi.json vs shared::EventType"
    );
    let text = schema["description"].as_str().unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for t in types {
        assert!(
            text.contains(&format!("`{t}`")),
            "EventType's description lacks `{t}`"
        );
        assert!(
            readme.contains(&format!("`{t}`")),
            "README.md does not name `{t}`"
        );
    }
}
