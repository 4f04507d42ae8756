"""Writes a TypeScript file assigning every example of the reference pages to its
generated type, plus lines that must not type-check (marked @ts-expect-error).

With `openapi` as the second argument, the types are those openapi-typescript made from
schemas/openapi.json (`components["schemas"][…]` in ./openapi); otherwise one module
per type, as json-schema-to-typescript made them from schemas/*.schema.json."""

import json
import sys
from pathlib import Path

FIXTURES = Path(sys.argv[1])
TYPES = {
    "access_upload": "AccessUpload",
    "datapoint_chunk": "DatapointChunk",
    "dsr_job": "DsrJob",
    "dsr_status": "DsrStatus",
    "erasure_report": "ErasureReport",
    "error_body": "ErrorBody",
    "submit_dsr": "SubmitDsr",
    "submit_dsr_response": "SubmitDsrResponse",
}

if len(sys.argv) > 2 and sys.argv[2] == "openapi":
    print('import type { components } from "./openapi";')
    for name in sorted(set(TYPES.values())):
        print(f'type {name} = components["schemas"]["{name}"];')
else:
    for name in sorted(set(TYPES.values())):
        print(f'import type {{ {name} }} from "./{name}";')
for i, path in enumerate(sorted(FIXTURES.glob("*.json"))):
    kind = path.name.split(".")[0]
    if kind not in TYPES:
        continue
    print(f"// {path.name}")
    print(f"export const example{i}: {TYPES[kind]} = {path.read_text().strip()};")

submit = json.loads((FIXTURES / "submit_dsr.access.json").read_text())
typo = json.dumps({**submit, "isSilen": True})
bad_enum = json.dumps({**submit, "type": "TELEPORT"})
status = json.loads((FIXTURES / "dsr_status.compiling.json").read_text())
later = json.dumps({**status, "status": "TELEPORTED"})
print("// A misspelt field in a request is an error.")
print(f"// @ts-expect-error\nexport const typo: SubmitDsr = {typo};")
print("// A request type outside the enum is an error.")
print(f"// @ts-expect-error\nexport const badEnum: SubmitDsr = {bad_enum};")
print("// A status added later is read.")
print(f"export const later: DsrStatus = {later};")
