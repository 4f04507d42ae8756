#!/usr/bin/env bash
# Validates schemas/openapi.json (openapi-spec-validator), and generates Python
# (datamodel-code-generator, pydantic v2) and TypeScript
# (json-schema-to-typescript, checked with `tsc --strict`) from schemas/, unedited, a
# Python client (openapi-python-client: every endpoint imports) and TypeScript types
# (openapi-typescript) from schemas/openapi.json, and
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
OPENAPI_PYTHON_CLIENT=0.29.1
OPENAPI_TYPESCRIPT=7.13.0

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

echo "-- OpenAPI to Python: openapi-python-client $OPENAPI_PYTHON_CLIENT"
"$work/venv/bin/pip" install -q "openapi-python-client==$OPENAPI_PYTHON_CLIENT"
printf 'post_hooks: []\n' > "$work/openapi-python-client.yaml"
"$work/venv/bin/openapi-python-client" generate --path "$root/schemas/openapi.json" \
    --output-path "$work/pyclient/transcend_client" --meta none \
    --config "$work/openapi-python-client.yaml" >/dev/null
"$work/venv/bin/python" - "$work/pyclient" <<'PY'
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import transcend_client.api.default as endpoints
import transcend_client.models as models
names = [m.name for m in pkgutil.iter_modules(endpoints.__path__)]
for name in names:
    importlib.import_module(f"transcend_client.api.default.{name}")
assert len(names) >= 12, names
print(f"openapi-python-client: {len(names)} endpoints generated, every one imports")
PY

echo "-- OpenAPI to TypeScript: openapi-typescript $OPENAPI_TYPESCRIPT, tsc --strict"
mkdir -p "$work/ts-openapi"
(cd "$work/ts-openapi" && npm install --silent --no-audit --no-fund \
    "openapi-typescript@$OPENAPI_TYPESCRIPT" "typescript@$TYPESCRIPT" >/dev/null)
"$work/ts-openapi/node_modules/.bin/openapi-typescript" "$root/schemas/openapi.json" \
    -o "$work/ts-openapi/openapi.ts" >/dev/null 2>&1
python3 "$here/typescript_examples.py" "$root/crates/transcend-types/tests/fixtures" openapi \
    > "$work/ts-openapi/examples.ts"
"$work/ts-openapi/node_modules/.bin/tsc" --strict --noEmit --target es2020 --moduleResolution node \
    "$work/ts-openapi/examples.ts"
echo "openapi-typescript: every example type-checks; a misspelt request field and a wrong enum value do not"
