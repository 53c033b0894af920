"""Cold start of each function: process start to ready for the first event.

A small stand-in for the Lambda Runtime API: it starts a function binary with AWS_LAMBDA_RUNTIME_API pointing at
itself and timestamps the binary's first `GET /2018-06-01/runtime/invocation/next`, which the runtime sends only
after `main` has built the app (SDK clients, the HMAC secret read from Secrets Manager on moto). Then it stops the
process. Each function is started RUNS times; the median and the range are printed.

Usage (emulators running, `source <(infra/emulators env)`, run with the venv of infra/test):
    python infra/coldstart.py target/release   [RUNS]
"""

import http.server
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

import boto3

FUNCTIONS = ["http-api", "reissue", "linkage", "export"]


class Ready(http.server.BaseHTTPRequestHandler):
    seen = threading.Event()
    at = 0.0

    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next") and not Ready.seen.is_set():
            Ready.at = time.monotonic()
            Ready.seen.set()
        # Hold the runtime here: no event is ever given.
        time.sleep(5)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    bin_dir = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "ap-northeast-1"))
    arn = sm.create_secret(Name=f"coldstart-{uuid.uuid4().hex}", SecretString="x" * 48)["ARN"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "coldstart", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_LOG_STREAM_NAME": "s", "AWS_LAMBDA_LOG_GROUP_NAME": "g",
        "HMAC_SECRET_ARN": arn, "RUST_LOG": "warn",
        "REPORTS_TABLE": "r", "ENTRIES_TABLE": "e", "CYCLES_TABLE": "c", "IDEMPOTENCY_TABLE": "i",
        "GRAPH_SOURCES_TABLE": "g", "LINKS_TABLE": "l", "EXPORT_BUCKET": "b", "EXPORT_STATE_BUCKET": "s",
    })
    env.pop("HMAC_SECRET", None)
    for name in FUNCTIONS:
        times = []
        for _ in range(runs):
            Ready.seen.clear()
            started = time.monotonic()
            proc = subprocess.Popen([os.path.join(bin_dir, name)], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            if not Ready.seen.wait(30):
                proc.kill()
                sys.exit(f"{name}: not ready in 30 s: {proc.stderr.read().decode()[:500]}")
            times.append((Ready.at - started) * 1000)
            proc.kill()
            proc.wait()
        print(f"{name}: median {statistics.median(times):.1f} ms, range {min(times):.1f}-{max(times):.1f} ms "
              f"over {runs} starts")


if __name__ == "__main__":
    main()
