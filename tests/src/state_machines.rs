//! The full runs on a Step Functions interpreter we did not write: moto's, which executes a definition when
//! `execute_state_machine` is on. The state machines are `template.yaml`'s own (the `Definition` of the resource,
//! with its `DefinitionSubstitutions` applied), and every Lambda task reaches the project's own handler.
//!
//! How the tasks reach the handlers: moto's interpreter invokes Lambda at `http://localhost:$MOTO_PORT`. Each
//! [`Interpreter`] starts its own `moto_server` with `MOTO_PORT` naming a router of this process: the router answers
//! `POST /2015-03-31/functions/<name>/invocations` by running the named function's handler (on an app wired with
//! exactly the tables and buckets `template.yaml` gives that function), in Lambda's shape (`X-Amz-Function-Error`
//! and `{"errorType", "errorMessage"}` on failure), and passes every other request on to that moto. The handlers' own
//! stores are the suite's DynamoDB Local and moto, as everywhere else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use platform::function_error::FunctionError;
use serde_json::Value;

/// A function's handler as the router runs it: the event as Lambda delivers it, the answer as Lambda returns it.
pub type Handler = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, FunctionError>> + Send + Sync>;

/// One invocation the interpreter made: the function's substitution key, the payload, and the answer (or the error
/// name Lambda reported).
#[derive(Debug, Clone)]
pub struct Invocation {
    pub function: String,
    pub payload: Value,
    pub answer: Result<Value, String>,
}

struct Router {
    functions: HashMap<String, Handler>,
    moto: String,
    calls: Mutex<Vec<Invocation>>,
    http: reqwest::Client,
}

/// A moto server with its Step Functions interpreter on, and the router its Lambda calls reach.
pub struct Interpreter {
    moto: std::process::Child,
    router: Arc<Router>,
    pub sfn: aws_sdk_sfn::Client,
}

/// How an execution ended.
#[derive(Debug)]
pub struct Ended {
    pub status: ExecutionStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
}

impl Drop for Interpreter {
    fn drop(&mut self) {
        let _ = self.moto.kill();
        let _ = self.moto.wait();
    }
}

fn moto_server() -> std::path::PathBuf {
    match std::env::var_os("HERSYS_MOTO_SERVER") {
        Some(path) => path.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/moto_server"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Interpreter {
    /// Starts moto (its interpreter on) and the router; `functions` maps each `DefinitionSubstitutions` key of the
    /// state machines to run (`FullExportFunctionArn`) to its handler.
    pub async fn start(functions: HashMap<String, Handler>) -> Interpreter {
        let moto_port = free_port();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let router_port = listener.local_addr().unwrap().port();
        let moto_url = format!("http://127.0.0.1:{moto_port}");
        let router = Arc::new(Router {
            functions,
            moto: moto_url.clone(),
            calls: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
        });
        let app = axum::Router::new()
            .route("/2015-03-31/functions/{name}/invocations", axum::routing::post(invoke))
            .fallback(forward)
            .with_state(router.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let log = std::env::temp_dir().join(format!("moto-sfn-{moto_port}.log"));
        let moto = std::process::Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .env("MOTO_PORT", router_port.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start ({e}): run ./infra/test", moto_server().display()));
        let interpreter = Interpreter { moto, router, sfn: sfn_client(&moto_url).await };
        let http = reqwest::Client::new();
        for attempt in 0.. {
            if http.get(format!("{moto_url}/moto-api/")).send().await.is_ok() {
                break;
            }
            assert!(attempt < 120, "moto did not answer within 60 s (log: {})", log.display());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let config = serde_json::json!({ "stepfunctions": { "execute_state_machine": true } });
        let set = http.post(format!("{moto_url}/moto-api/config")).json(&config).send().await.unwrap();
        assert!(set.status().is_success(), "moto's config: {}", set.status());
        interpreter
    }

    /// Creates the state machine of `template.yaml`'s resource `resource`, its substitutions naming the functions
    /// given to [`Interpreter::start`]; its ARN.
    pub async fn create(&self, resource: &str) -> String {
        let definition = definition_from_template(resource);
        let created = self
            .sfn
            .create_state_machine()
            .name(format!("{resource}-{}", uuid::Uuid::new_v4().simple()))
            .definition(definition)
            .role_arn("arn:aws:iam::123456789012:role/state-machine")
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto refuses {resource}'s definition: {e:?}"));
        created.state_machine_arn
    }

    /// Runs an execution of `machine` on `input` to its end (at most ten minutes).
    pub async fn run(&self, machine: &str, input: &Value) -> Ended {
        // Named: moto names an unnamed execution "None", so a second one would already exist.
        let name = uuid::Uuid::new_v4().simple().to_string();
        let started = self
            .sfn
            .start_execution()
            .state_machine_arn(machine)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .unwrap();
        for _ in 0..1200 {
            let execution = self.sfn.describe_execution().execution_arn(&started.execution_arn).send().await.unwrap();
            if execution.status != ExecutionStatus::Running {
                return Ended {
                    status: execution.status,
                    output: execution.output.map(|o| serde_json::from_str(&o).unwrap()),
                    error: execution.error,
                };
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("the execution of {machine} did not end within ten minutes")
    }

    /// Every invocation the interpreter made so far, in order.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.router.calls.lock().unwrap().clone()
    }
}

async fn sfn_client(moto: &str) -> aws_sdk_sfn::Client {
    let sdk = crate::emulators::sdk_config().await;
    aws_sdk_sfn::Client::from_conf(aws_sdk_sfn::config::Builder::from(&sdk).endpoint_url(moto).build())
}

/// The `Definition` of `template.yaml`'s resource as JSON, with each `${Key}` of its `DefinitionSubstitutions`
/// replaced by a Lambda ARN whose function name is the key.
pub fn definition_from_template(resource: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let properties = &template["Resources"][resource]["Properties"];
    let definition = serde_json::to_value(&properties["Definition"]).unwrap();
    assert!(definition.is_object(), "{resource} has no Definition in template.yaml");
    let mut text = definition.to_string();
    let substitutions = properties["DefinitionSubstitutions"].as_mapping().expect("DefinitionSubstitutions");
    for key in substitutions.keys() {
        let key = key.as_str().unwrap();
        text =
            text.replace(&format!("${{{key}}}"), &format!("arn:aws:lambda:ap-northeast-1:123456789012:function:{key}"));
    }
    assert!(!text.contains("${"), "a substitution of {resource} is left: {text}");
    text
}

/// The `Input` of the schedule `event` of `template.yaml`'s resource (a state machine's `Events`), as JSON.
pub fn schedule_input(resource: &str, event: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let input = &template["Resources"][resource]["Properties"]["Events"][event]["Properties"]["Input"];
    serde_json::from_str(input.as_str().unwrap_or_else(|| panic!("{resource}/{event} has no Input"))).unwrap()
}

/// A Lambda invocation: the named function's handler on the payload, answered as Lambda answers.
async fn invoke(State(router): State<Arc<Router>>, Path(name): Path<String>, body: Bytes) -> Response {
    // The interpreter names the function by its ARN (URL-encoded in the path) or by its name.
    let function = name.rsplit(':').next().unwrap_or(&name).to_owned();
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(handler) = router.functions.get(&function).cloned() else {
        let body = serde_json::json!({ "Type": "User", "message": format!("Function not found: {function}") });
        return (StatusCode::NOT_FOUND, [("x-amzn-errortype", "ResourceNotFoundException")], body.to_string())
            .into_response();
    };
    let answer = handler(payload.clone()).await;
    let recorded = answer.clone().map_err(|e| e.name.as_str().to_owned());
    router.calls.lock().unwrap().push(Invocation { function, payload, answer: recorded });
    match answer {
        Ok(value) => (StatusCode::OK, [("x-amz-executed-version", "$LATEST")], value.to_string()).into_response(),
        Err(e) => {
            let diagnostic = lambda_runtime::Diagnostic::from(e);
            let body =
                serde_json::json!({ "errorType": diagnostic.error_type, "errorMessage": diagnostic.error_message });
            (
                StatusCode::OK,
                [("x-amz-function-error", "Unhandled"), ("x-amz-executed-version", "$LATEST")],
                body.to_string(),
            )
                .into_response()
        }
    }
}

/// Anything else the interpreter sends to its own port goes on to moto.
async fn forward(
    State(router): State<Arc<Router>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let url = format!("{}{}", router.moto, uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut request = router.http.request(method, url).body(body);
    for (name, value) in &headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.unwrap_or_default();
            let mut response = (status, body).into_response();
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
