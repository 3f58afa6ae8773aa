use serde::Serialize;
use serde_json::Value;

/// Every reply: HTTP 200 with `{errCode, errMsg, errDlt, data}`; `data` is
/// left out on errors and on replies without a body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiReply {
    pub err_code: i32,
    pub err_msg: String,
    pub err_dlt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ApiReply {
    pub fn ok(data: Option<Value>) -> Self {
        ApiReply {
            err_code: 0,
            err_msg: String::new(),
            err_dlt: String::new(),
            data,
        }
    }

    pub fn error(code: i32, name: &str, detail: &str) -> Self {
        ApiReply {
            err_code: code,
            err_msg: name.to_owned(),
            err_dlt: format!("{detail}: [{code}]{name}"),
            data: None,
        }
    }
}
