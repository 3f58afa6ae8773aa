//! `parley audit`: the audit API of a running server, from the command
//! line. Events come out as JSON lines (one stored event each, oldest
//! first), ready for `jq`.

use std::io::Write;

use serde_json::{json, Map, Value};

use crate::cli::{AuditArgs, AuditCommand, ServerArgs};
use crate::deploy::BoxError;

async fn call(server: &ServerArgs, path: &str, body: &Value) -> Result<Value, BoxError> {
    if server.token.is_empty() {
        return Err("--token (PARLEY_TOKEN) is required: an app admin's token, see `parley admin-token`".into());
    }
    let reply: Value = reqwest::Client::new()
        .post(format!("{}{path}", server.url.trim_end_matches('/')))
        .header("operationID", format!("parley-audit-{}", uuid::Uuid::new_v4().simple()))
        .header("X-Tenant-ID", &server.tenant)
        .header("token", &server.token)
        .json(body)
        .send()
        .await?
        .json()
        .await?;
    if reply["errCode"] != 0 {
        return Err(format!("{path}: {} {}", reply["errCode"], reply["errDlt"]).into());
    }
    Ok(reply["data"].clone())
}

/// A time as the API takes it: milliseconds, or an RFC 3339 time.
fn millis(field: &str, text: &str) -> Result<i64, BoxError> {
    if let Ok(ms) = text.parse() {
        return Ok(ms);
    }
    match schemas::audit::parse_until(&Value::from(text)) {
        Ok(schemas::audit::Until::Time(ms)) => Ok(ms),
        _ => Err(format!("--{field}: milliseconds or an RFC 3339 time, got {text:?}").into()),
    }
}

pub async fn audit(args: AuditArgs) -> Result<(), BoxError> {
    if let Some(AuditCommand::State { stream, at }) = &args.state {
        let at = at.parse::<u64>().map_or_else(|_| Value::from(at.as_str()), Value::from);
        let state = call(&args.server, "/audit/state", &json!({"streamKey": stream, "at": at})).await?;
        println!("{}", serde_json::to_string_pretty(&state)?);
        return Ok(());
    }
    let mut filters = Map::new();
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            filters.insert(key.to_owned(), value);
        }
    };
    set("streamKey", args.stream.clone().map(Value::from));
    set("userID", args.user.clone().map(Value::from));
    set("operationID", args.operation_id.clone().map(Value::from));
    set("fromPosition", args.from_position.map(Value::from));
    set("limit", Some(Value::from(args.page)));
    if !args.event_types.is_empty() {
        set("eventTypes", Some(json!(args.event_types)));
    }
    if let Some(t) = &args.from_time {
        set("fromTime", Some(Value::from(millis("from-time", t)?)));
    }
    if let Some(t) = &args.to_time {
        set("toTime", Some(Value::from(millis("to-time", t)?)));
    }
    let mut out = std::io::stdout().lock();
    loop {
        let page = call(&args.server, "/audit/events", &Value::Object(filters.clone())).await?;
        for event in page["events"].as_array().into_iter().flatten() {
            writeln!(out, "{event}")?;
        }
        match page["nextCursor"].as_str() {
            Some(cursor) if !cursor.is_empty() => {
                filters.insert("cursor".into(), Value::from(cursor));
            }
            _ => return Ok(()),
        }
    }
}
