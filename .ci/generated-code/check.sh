#!/usr/bin/env bash
# Validates schemas/openapi.json (openapi-spec-validator), and generates Python
# (datamodel-code-generator, pydantic v2) and TypeScript
# (json-schema-to-typescript, checked with `tsc --strict`) from schemas/, unedited, and
# checks every example of the reference pages (crates/transcend-types/tests/fixtures)
# against the generated code, plus what the schemas promise: requests closed,
# response enums extensible. Tool versions are pinned here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

DATAMODEL_CODE_GENERATOR=0.89.0
OPENAPI_SPEC_VALIDATOR=0.9.0
JSON_SCHEMA_TO_TYPESCRIPT=15.0.4
TYPESCRIPT=5.9.3

echo "-- Python: datamodel-code-generator $DATAMODEL_CODE_GENERATOR"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "datamodel-code-generator==$DATAMODEL_CODE_GENERATOR"
"$work/venv/bin/datamodel-codegen" --input "$root/schemas" --input-file-type jsonschema \
    --output "$work/py/models" --output-model-type pydantic_v2.BaseModel 2>/dev/null
"$work/venv/bin/python" "$here/check_python.py" "$work/py" "$root/crates/transcend-types/tests/fixtures"

echo "-- OpenAPI: openapi-spec-validator $OPENAPI_SPEC_VALIDATOR"
"$work/venv/bin/pip" install -q "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR"
"$work/venv/bin/python" -c '
import json, sys
from openapi_spec_validator import validate
validate(json.load(open(sys.argv[1])))
print("OpenAPI: schemas/openapi.json is a valid OpenAPI 3.1 document")
' "$root/schemas/openapi.json"

echo "-- TypeScript: json-schema-to-typescript $JSON_SCHEMA_TO_TYPESCRIPT, tsc $TYPESCRIPT --strict"
mkdir -p "$work/ts/out"
(cd "$work/ts" && npm install --silent --no-audit --no-fund \
    "json-schema-to-typescript@$JSON_SCHEMA_TO_TYPESCRIPT" "typescript@$TYPESCRIPT" >/dev/null)
for schema in "$root"/schemas/*.schema.json; do
    name="$(basename "$schema" .schema.json)"
    "$work/ts/node_modules/.bin/json2ts" -i "$schema" -o "$work/ts/out/$name.ts" --cwd "$root/schemas"
done
python3 "$here/typescript_examples.py" "$root/crates/transcend-types/tests/fixtures" > "$work/ts/out/examples.ts"
"$work/ts/node_modules/.bin/tsc" --strict --noEmit --target es2020 --moduleResolution node \
    "$work/ts/out/examples.ts"
echo "TypeScript: every example type-checks; a misspelt request field and a wrong enum value do not"
