//! `GET /openapi.json`: an OpenAPI 3.1 document of the HTTP API, made from
//! the endpoint table and the request types' schemas (derived from the
//! types in `schemas/`, so it follows them). Every endpoint is a POST with
//! a JSON body, its headers, and the reply envelope.

use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use schemas::ApiReply;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref,
    RefOr, Required, ResponseBuilder, Schema,
};
use utoipa::{PartialSchema, ToSchema};

use crate::extract::{MIN_POSITION, OPERATION_ID, TENANT_ID, TOKEN};

/// One endpoint of the table: its path and request body.
pub struct Endpoint {
    path: &'static str,
    body: String,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Endpoint {
    pub fn path(&self) -> &'static str {
        self.path
    }

    pub fn of<T: ToSchema>(path: &'static str) -> Self {
        let mut schemas = vec![(T::name().into_owned(), T::schema())];
        T::schemas(&mut schemas);
        Endpoint {
            path,
            body: T::name().into_owned(),
            schemas,
        }
    }
}

/// Endpoints that need no token.
const WHITELISTED: [&str; 2] = ["/user/self_register", "/user/self_login"];

fn header(name: &str, required: bool, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(if required { Required::True } else { Required::False })
        .description(Some(description))
        .schema(Some(String::schema()))
        .build()
}

/// The whole document.
pub fn build() -> OpenApi {
    let mut components = ComponentsBuilder::new().schema(ApiReply::name(), ApiReply::schema());
    let mut paths = PathsBuilder::new();
    for endpoint in super::endpoint_bodies() {
        for (name, schema) in endpoint.schemas {
            components = components.schema(name, schema);
        }
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(&endpoint.body)))
                    .build(),
            )
            .build();
        let reply = ResponseBuilder::new()
            .description(
                "Always HTTP 200: the envelope; errCode 0 on success, else the error's code \
                 (docs/api.md lists them)",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(ApiReply::name())))
                    .build(),
            )
            .build();
        let mut operation = OperationBuilder::new()
            .operation_id(Some(endpoint.path.trim_start_matches('/').replace('/', "_")))
            .request_body(Some(body))
            .response("200", reply)
            .parameter(header(
                OPERATION_ID,
                true,
                "the request's operation ID (logged, stored on events)",
            ))
            .parameter(header(TENANT_ID, true, "the tenant"))
            .parameter(header(
                MIN_POSITION,
                false,
                "answer once the read models include this log position",
            ));
        if !WHITELISTED.contains(&endpoint.path) {
            operation = operation.parameter(header(TOKEN, true, "the caller's JWT"));
        }
        paths = paths.path(endpoint.path, PathItem::new(HttpMethod::Post, operation.build()));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Parley")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("An OpenIM-style IM API on an event-sourced backend"))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// `GET /docs`: Swagger UI over `/openapi.json`, its assets served from the
/// binary (no CDN).
pub fn docs_page() -> axum::Router {
    swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
        title: Some("Parley API"),
    })
}

pub async fn document() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let json = DOCUMENT.get_or_init(|| build().to_json().expect("the OpenAPI document serializes"));
    ([(CONTENT_TYPE, "application/json")], json.clone()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_post_with_a_resolvable_body() {
        let doc = serde_json::to_value(build()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), super::super::endpoint_bodies().len());
        for (path, item) in paths {
            let reference = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{path}: no body"));
            let name = reference.trim_start_matches("#/components/schemas/");
            assert!(doc["components"]["schemas"][name].is_object(), "{path}: {name}");
        }
        let register = &doc["components"]["schemas"]["SelfRegisterReq"];
        assert_eq!(
            register["required"],
            serde_json::json!(["userID", "nickname", "password"])
        );
    }
}
