"""Schemathesis hooks for infra/fuzz_api.sh (loaded through SCHEMATHESIS_HOOKS; not a program of its own).

`POST /v1/entries` also takes NDJSON (`application/x-ndjson`), which schemathesis cannot serialise by itself. The
document describes that body by its records (an array of EntryRecord, like the JSON form); this serialiser sends
them one JSON object a line, so that the NDJSON reader is fuzzed as much as the JSON one. Data that is not a list
(negative cases) goes as one line, as generated.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, list):
        return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in value).encode("utf-8")
    if isinstance(value, bytes):
        return value
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
