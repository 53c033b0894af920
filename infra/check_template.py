"""Checks template.yaml beyond cfn-lint: runs the SAM transform (as `sam deploy` would) and inspects the result.

cfn-lint validates the SAM template against schemas but does not run the transform, and it checks neither IAM action
names nor what SAM adds to the roles. This script fails when
- the transform fails, or cfn-lint finds anything in the transformed (plain CloudFormation) template,
- a role statement uses an action wildcard or an action name IAM does not know (cfn-lint's own IAM action list),
- SAM attached a managed policy other than the two expected ones,
- a function is not built by cargo-lambda from its own binary, or reads an environment variable we do not know,
- a schedule's Input does not have the shape of infra/events/scheduled-<function>.json (the sample events must be
  what the functions really receive),
- a state machine's Map has an ItemBatcher (each child's input must be one step event: the handlers take no batch,
  and the tests' interpreter runs none) or no MaxConcurrency below the reserved concurrency of the functions it
  invokes (Start, Combine and retries share it), or a Lambda task has no TimeoutSeconds within its function's
  Timeout.

Usage: python infra/check_template.py template.yaml   (run with the venv of infra/test)
"""

from __future__ import annotations

import copy
import json
import re
import os
import sys
from importlib import resources

from cfnlint.api import lint
from cfnlint.decode import decode
from samtranslator.translator.transform import transform

ALLOWED_MANAGED = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
KNOWN_ENV = {
    "REPORTS_TABLE", "ENTRIES_TABLE", "FOLLOW_UPS_TABLE", "CYCLES_TABLE", "IDEMPOTENCY_TABLE", "GRAPH_SOURCES_TABLE", "LINKS_TABLE", "AUDIT_TABLE", "LINK_INDEX_TABLE", "LINKAGE_WINDOW_DAYS", "HMAC_SECRET_ARN", "SES_FROM_ADDRESS",
    "EXPORT_BUCKET", "EXPORT_STATE_BUCKET", "REMINDER_AFTER_MINUTES", "QUIET_HOURS", "RUST_LOG", "APP_LINK_BASE",
    "NUMBER_KEY_ID", "FULL_EXPORT_STATE_MACHINE_ARN",
}
FUNCTIONS = {"HttpApiFunction": "http-api", "ReissueFunction": "reissue", "LinkageFunction": "linkage",
             "ExportFunction": "export", "FullExportFunction": "export",
             "FullLinkageFunction": "linkage"}


class Loader:
    """Managed policy names SAM may attach, without asking IAM."""

    def load(self) -> dict[str, str]:
        return dict(ALLOWED_MANAGED)


def iam_actions() -> dict[str, set[str]]:
    with resources.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json").open() as f:
        data = json.load(f)
    return {service: {a.lower() for a in spec.get("Actions", {})} for service, spec in data.items()}


def as_list(value):
    return value if isinstance(value, list) else [value]


def check_schedule_inputs(template: dict, events_dir: str) -> list[str]:
    """Fills each ScheduleV2 Input the way Scheduler and CloudFormation would, with the sample's values, and compares."""
    errors = []
    for logical, binary in FUNCTIONS.items():
        events = template["Resources"].get(logical, {}).get("Properties", {}).get("Events", {})
        for name, event in events.items():
            if event.get("Type") != "ScheduleV2":
                continue
            # The hourly (or every-minute) schedule's sample is scheduled-BINARY.json; another schedule of the same
            # function has its own, named after the event: DailyEstimate -> scheduled-linkage-daily-estimate.json.
            suffix = "" if name in ("Hourly", "EveryMinute") else "-" + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()
            sample_path = os.path.join(events_dir, f"scheduled-{binary}{suffix}.json")
            try:
                with open(sample_path) as f:
                    sample = json.load(f)
            except (OSError, ValueError) as e:
                errors.append(f"{logical}/{name}: cannot read {sample_path}: {e}")
                continue
            raw = event.get("Properties", {}).get("Input", {})
            raw = raw.get("Fn::Sub") if isinstance(raw, dict) else raw
            if not isinstance(raw, str):
                errors.append(f"{logical}/{name}: Input must be a string or a plain !Sub of one")
                continue
            filled = raw
            for placeholder, value in {
                "${AWS::AccountId}": sample.get("account", ""),
                "${AWS::Region}": sample.get("region", ""),
                "<aws.scheduler.execution-id>": sample.get("id", ""),
                "<aws.scheduler.scheduled-time>": sample.get("time", ""),
                "<aws.scheduler.schedule-arn>": (sample.get("resources") or [""])[0],
            }.items():
                filled = filled.replace(placeholder, value)
            try:
                received = json.loads(filled)
            except ValueError as e:
                errors.append(f"{logical}/{name}: Input is not JSON once filled in: {e}")
                continue
            if received != sample:
                errors.append(f"{logical}/{name}: Input {received} differs from {sample_path}")
    return errors


def states_of(states: dict):
    """Every state of a definition, those of Map item processors included, with the Map that holds it (or None)."""
    for name, state in states.items():
        yield name, state, None
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if state.get("Type") == "Map" and processor:
            for inner_name, inner, _ in states_of(processor.get("States", {})):
                yield inner_name, inner, name


def check_state_machines(template: dict) -> list[str]:
    errors = []
    resources = template["Resources"]
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::StateMachine":
            continue
        props = resource.get("Properties", {})
        # Each substitution names a function by !GetAtt Function.Arn.
        functions = {}
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
            if isinstance(target, list) and target[1:] == ["Arn"] and target[0] in resources:
                functions["${%s}" % key] = resources[target[0]].get("Properties", {})
        states = props.get("Definition", {}).get("States", {})
        reserved = [f.get("ReservedConcurrentExecutions") for f in functions.values()]
        for name, state, _map in states_of(states):
            where = f"{logical}/{name}"
            if state.get("Type") == "Map":
                if "ItemBatcher" in state:
                    errors.append(f"{where}: ItemBatcher: each child must receive one partition event")
                limit = state.get("MaxConcurrency")
                if not isinstance(limit, int) or limit <= 0:
                    errors.append(f"{where}: MaxConcurrency must be set (0 is unbounded)")
                elif any(r is None or limit >= r for r in reserved):
                    errors.append(f"{where}: MaxConcurrency {limit} must stay below the reserved concurrency {reserved}")
            if state.get("Type") == "Task" and state.get("Resource") == "arn:aws:states:::lambda:invoke":
                function = functions.get(state.get("Parameters", {}).get("FunctionName"))
                timeout = state.get("TimeoutSeconds")
                if function is None:
                    errors.append(f"{where}: invokes a function not named by DefinitionSubstitutions")
                elif not isinstance(timeout, int) or timeout > function.get("Timeout", 3):
                    errors.append(f"{where}: TimeoutSeconds must be set, at most the function's Timeout")
    return errors


def main(path: str) -> int:
    template, matches = decode(path)
    if matches or template is None:
        print(f"{path}: cannot parse: {matches}")
        return 1
    errors: list[str] = []

    for logical, binary in FUNCTIONS.items():
        resource = template["Resources"].get(logical)
        if resource is None:
            errors.append(f"{logical}: missing")
            continue
        meta = resource.get("Metadata", {})
        if meta.get("BuildMethod") != "rust-cargolambda" or meta.get("BuildProperties", {}).get("Binary") != binary:
            errors.append(f"{logical}: Metadata must be BuildMethod rust-cargolambda, Binary {binary}")

    errors.extend(check_schedule_inputs(template, os.path.join(os.path.dirname(os.path.abspath(path)), "infra", "events")))
    errors.extend(check_state_machines(template))

    # What `sam package` does to CodeUri before the transform runs.
    packaged = copy.deepcopy(template)
    packaged.get("Globals", {}).get("Function", {})["CodeUri"] = "s3://bucket/code.zip"
    for logical in FUNCTIONS:
        packaged["Resources"][logical]["Properties"].pop("CodeUri", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-northeast-1")
    params = {"JwtIssuer": "https://issuer.example.jp", "JwtAudience": "hersys", "SesFromAddress": "a@example.jp"}
    try:
        out = transform(packaged, params, Loader())
    except Exception as e:  # noqa: BLE001 - any transform failure is a finding
        print(f"{path}: SAM transform failed: {e}")
        return 1

    for match in lint(json.dumps(out), regions=[os.environ["AWS_DEFAULT_REGION"]]):
        errors.append(f"transformed template: {match}")

    known = iam_actions()
    for logical, resource in out["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for arn in props.get("ManagedPolicyArns", []):
                if arn not in ALLOWED_MANAGED.values():
                    errors.append(f"{logical}: unexpected managed policy {arn}")
            for policy in props.get("Policies", []):
                for statement in as_list(policy["PolicyDocument"]["Statement"]):
                    if "NotAction" in statement:
                        errors.append(f"{logical}/{policy['PolicyName']}: NotAction is not allowed")
                    for action in as_list(statement.get("Action", [])):
                        service, _, name = action.partition(":")
                        if "*" in action:
                            errors.append(f"{logical}/{policy['PolicyName']}: action wildcard {action}")
                        elif name.lower() not in known.get(service, set()):
                            errors.append(f"{logical}/{policy['PolicyName']}: unknown IAM action {action}")
        if resource["Type"] == "AWS::Lambda::Function":
            names = set(props.get("Environment", {}).get("Variables", {}))
            if names - KNOWN_ENV:
                errors.append(f"{logical}: unknown environment variables {sorted(names - KNOWN_ENV)}")

    for e in errors:
        print(f"{path}: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
