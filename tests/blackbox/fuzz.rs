//! A protocol-level fuzzing pass over every endpoint, generated from the
//! server's own OpenAPI document (`GET /openapi.json`, whose request schemas
//! are derived from the request types): malformed bodies, every field
//! missing or of a wrong type (1001 naming the field), and boundary values
//! (any answer but a 5xx). Afterwards the server still answers and its log
//! holds no panic and no ERROR. Rerun it alone with
//! `cargo test -p api --test blackbox -- fuzz --nocapture`.

use serde_json::{json, Map, Value};

use crate::harness::*;

/// The document's schemas, to resolve `$ref`s with.
struct Doc {
    schemas: Map<String, Value>,
}

impl Doc {
    /// `schema` with its `$ref` followed and a nullable union reduced to its
    /// non-null member; `nullable` says whether null was allowed.
    fn resolve(&self, schema: &Value) -> (Value, bool) {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/schemas/");
            return (self.schemas[name].clone(), false);
        }
        for union in ["oneOf", "anyOf"] {
            if let Some(members) = schema[union].as_array() {
                let nullable = members.iter().any(|m| m["type"] == "null");
                let inner = members.iter().find(|m| m["type"] != "null").expect("a non-null member");
                let (resolved, _) = self.resolve(inner);
                return (resolved, nullable);
            }
        }
        if let Some(types) = schema["type"].as_array() {
            let nullable = types.iter().any(|t| t == "null");
            let kind = types.iter().find(|t| *t != "null").cloned().unwrap_or(Value::Null);
            let mut single = schema.clone();
            single["type"] = kind;
            return (single, nullable);
        }
        (schema.clone(), false)
    }

    /// A value of the schema's shape (not necessarily one the rules take).
    fn sample(&self, schema: &Value) -> Value {
        let (schema, _) = self.resolve(schema);
        match schema["type"].as_str() {
            Some("string") => json!("fuzz"),
            Some("integer") => json!(1),
            Some("number") => json!(1.5),
            Some("boolean") => json!(false),
            Some("array") => json!([self.sample(&schema["items"])]),
            Some("object") => Value::Object(
                schema["properties"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, field)| (name.clone(), self.sample(field)))
                    .collect(),
            ),
            // Any JSON (a message's content, an audit time).
            _ => json!({"content": "fuzz"}),
        }
    }

    /// Every field of `schema` (nested objects and array items too), with
    /// its path of property names ("[]" for an array's items).
    fn fields(&self, schema: &Value, path: &mut Vec<String>, out: &mut Vec<Field>) {
        let (schema, _) = self.resolve(schema);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (name, field) in schema["properties"].as_object().into_iter().flatten() {
            path.push(name.clone());
            let (resolved, nullable) = self.resolve(field);
            out.push(Field {
                path: path.clone(),
                kind: resolved["type"].as_str().unwrap_or("any").to_owned(),
                format: resolved["format"].as_str().unwrap_or_default().to_owned(),
                required: required.contains(&name.as_str()),
                nullable,
                unsigned: resolved["minimum"] == 0,
            });
            match resolved["type"].as_str() {
                Some("object") => self.fields(&resolved, path, out),
                Some("array") => {
                    let (items, _) = self.resolve(&resolved["items"]);
                    if items["type"] == "object" {
                        path.push("[]".into());
                        self.fields(&items, path, out);
                        path.pop();
                    }
                }
                _ => {}
            }
            path.pop();
        }
    }
}

struct Field {
    path: Vec<String>,
    kind: String,
    format: String,
    required: bool,
    nullable: bool,
    /// An integer with `minimum: 0` (a Rust unsigned type).
    unsigned: bool,
}

impl Field {
    /// The name an error about this field must mention.
    fn name(&self) -> &str {
        self.path.iter().rev().find(|s| *s != "[]").expect("a named field")
    }

    /// Values of another JSON type than the field's.
    fn wrong_types(&self) -> Vec<Value> {
        let mut wrong = match self.kind.as_str() {
            "string" => vec![json!(12345), json!(true), json!({}), json!([])],
            "integer" => vec![json!("1"), json!(1.5), json!(true), json!({}), json!([1])],
            "number" => vec![json!("1"), json!(true), json!([])],
            "boolean" => vec![json!("true"), json!(1), json!({})],
            "array" => vec![json!("x"), json!({}), json!(1)],
            "object" => vec![json!("x"), json!([]), json!(1)],
            _ => vec![],
        };
        if !self.nullable && self.kind != "any" {
            wrong.push(Value::Null);
        }
        if self.kind == "integer" {
            // Beyond the field's integer type: 2^32 for 32 bits, 2^64 (a
            // float to JSON readers) for 64.
            wrong.push(if self.format == "int32" {
                json!(1u64 << 32)
            } else {
                serde_json::from_str("18446744073709551616").expect("a number")
            });
            if self.unsigned {
                wrong.push(json!(-1));
            }
        }
        wrong
    }

    /// Edge values of the field's own type: any answer but a 5xx.
    fn boundaries(&self, sample: &Value) -> Vec<Value> {
        match self.kind.as_str() {
            "string" => vec![
                json!(""),
                json!(" "),
                json!("x".repeat(70_000)),
                json!("é".repeat(65)),
                json!("a\u{0}b"),
                json!("a:b"),
                json!("a_b"),
                json!("😀\u{202e}"),
                json!("-1"),
            ],
            "integer" => vec![
                json!(0),
                json!(-1),
                json!(i64::from(i32::MAX)),
                json!(i64::from(i32::MIN)),
                json!(i64::MAX),
                json!(i64::MIN),
            ],
            "array" => {
                let item = sample.as_array().and_then(|a| a.first()).cloned().unwrap_or(json!("x"));
                vec![
                    json!([]),
                    Value::Array(vec![item.clone(); 1001]),
                    json!([item.clone(), item]),
                ]
            }
            _ => vec![],
        }
    }
}

/// `body` with the value at `path` replaced (`None`: removed). An array
/// on the way has its first item changed.
fn set(body: &Value, path: &[String], value: Option<Value>) -> Value {
    let mut body = body.clone();
    let mut at = &mut body;
    for (i, segment) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        if segment == "[]" {
            at = &mut at[0];
            continue;
        }
        let object = at.as_object_mut().expect("an object on the way");
        if last {
            match value {
                Some(v) => object.insert(segment.clone(), v),
                None => object.remove(segment),
            };
            return body;
        }
        at = object.get_mut(segment).expect("the field is in the sample");
    }
    body
}

/// Bodies that are no JSON object at all.
fn malformed_bodies() -> Vec<String> {
    vec![
        String::new(),
        "{".into(),
        "null".into(),
        "[]".into(),
        "\"text\"".into(),
        "12".into(),
        "{\"a\":}".into(),
        "{} trailing".into(),
        "[".repeat(100_000),
        String::from_utf8_lossy(&[0x7b, 0xff, 0xfe, 0x7d]).into_owned(),
    ]
}

/// What every reply must be: the envelope, and no server error.
fn check_envelope(reply: &Value, what: &str) {
    let code = reply["errCode"]
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: no envelope: {reply}"));
    assert!(
        reply["errMsg"].is_string() && reply["errDlt"].is_string(),
        "{what}: {reply}"
    );
    assert_ne!(code, 500, "{what}: a server error: {reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_endpoint_survives_malformed_and_boundary_bodies() {
    let server = Server::start();
    for user in ["fuzz", "fuzz2"] {
        server.user(user).await;
    }
    let base = server.base().unwrap();
    let http = reqwest::Client::new();
    let document: Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc = Doc {
        schemas: document["components"]["schemas"].as_object().unwrap().clone(),
    };
    let admin = admin_token();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 49, "{} endpoints", paths.len());
    let mut requests = 0usize;
    for (path, item) in paths {
        let schema = &item["post"]["requestBody"]["content"]["application/json"]["schema"];
        let send = |body: String| {
            let request = http
                .post(format!("{base}{path}"))
                .header("operationID", "op-fuzz")
                .header("X-Tenant-ID", TENANT)
                .header("token", &admin)
                .header("content-type", "application/json")
                .body(body);
            async move {
                let response = request.send().await.expect("the server answers");
                assert_eq!(response.status(), 200, "{path}: every reply is HTTP 200");
                response.json::<Value>().await.expect("a JSON reply")
            }
        };
        // Over the 2 MiB body limit: refused (1001), or the connection is
        // closed while the client still sends it. Either way on a
        // connection of its own.
        let oversized = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        let big = format!("{{\"x\":\"{}\"}}", "y".repeat(3 << 20));
        if let Ok(response) = oversized
            .post(format!("{base}{path}"))
            .header("operationID", "op-fuzz")
            .header("X-Tenant-ID", TENANT)
            .header("token", &admin)
            .body(big)
            .send()
            .await
        {
            let reply: Value = response.json().await.expect("a JSON reply");
            assert_eq!(reply["errCode"], 1001, "{path} oversized: {reply}");
        }
        for body in malformed_bodies() {
            let shown: String = body.chars().take(40).collect();
            let reply = send(body).await;
            check_envelope(&reply, &format!("{path} {shown:?}"));
            assert_eq!(reply["errCode"], 1001, "{path} {shown:?}: {reply}");
            requests += 1;
        }
        let sample = doc.sample(schema);
        let mut fields = Vec::new();
        doc.fields(schema, &mut Vec::new(), &mut fields);
        assert!(!fields.is_empty(), "{path}: a body without fields");
        for field in &fields {
            let at = field.path.join(".");
            let mut refused = Vec::new();
            if field.required {
                refused.push(("missing".to_owned(), set(&sample, &field.path, None)));
            }
            for wrong in field.wrong_types() {
                refused.push((format!("{wrong}"), set(&sample, &field.path, Some(wrong))));
            }
            for (what, body) in refused {
                let reply = send(body.to_string()).await;
                check_envelope(&reply, &format!("{path} {at}={what}"));
                assert_eq!(reply["errCode"], 1001, "{path} {at}={what}: {reply}");
                let detail = reply["errDlt"].as_str().unwrap();
                assert!(
                    detail.contains(field.name()),
                    "{path} {at}={what}: the error names no field: {detail}"
                );
                requests += 1;
            }
            let current = {
                let mut at = &sample;
                for segment in &field.path {
                    at = if segment == "[]" { &at[0] } else { &at[segment] };
                }
                at.clone()
            };
            for edge in field.boundaries(&current) {
                let shown: String = edge.to_string().chars().take(40).collect();
                let reply = send(set(&sample, &field.path, Some(edge)).to_string()).await;
                check_envelope(&reply, &format!("{path} {at}={shown}"));
                requests += 1;
            }
        }
    }
    eprintln!("fuzz: {requests} requests over {} endpoints", paths.len());
    // Still serving, and nothing went wrong inside.
    let token = server.login("fuzz").await;
    assert_eq!(server.users_info(&token, &["fuzz2"]).await[0]["userID"], "fuzz2");
    assert_eq!(server.troubles(), Vec::<String>::new(), "panics or errors in the log");
}
