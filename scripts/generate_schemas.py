"""Generate k8slint/data/schemas/1.N.json.gz: the built-in kinds' schemas, one file per
supported Kubernetes minor, from the strict JSON schemas of the `kubernetes-validate`
package (Apache-2.0, https://github.com/willthames/kubernetes-validate).

    python scripts/generate_schemas.py [--source DIR]

Without --source it downloads kubernetes-validate (the version pinned below) with pip
into a temporary folder. The output keeps what validation needs and nothing else:
descriptions, patch strategies and list-type markers are dropped, and each definition
becomes a compact type (read by k8slint/schemas.py). A run loads the one file of the
release it targets.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PINNED = "kubernetes-validate==1.37.0"
VERSIONS = [f"1.{minor}" for minor in range(28, 38)]
OUTPUT = Path(__file__).resolve().parent.parent / "k8slint" / "data" / "schemas"

# Definition names are shortened: "io.k8s.api.apps.v1.Deployment" -> "apps.v1.Deployment".
_PREFIXES = (
    "io.k8s.api.",
    "io.k8s.apimachinery.pkg.apis.",
    "io.k8s.apimachinery.pkg.api.",
    "io.k8s.apimachinery.pkg.util.",
    "io.k8s.apimachinery.pkg.",
    "io.k8s.apiextensions-apiserver.pkg.apis.",
    "io.k8s.kube-aggregator.pkg.apis.",
)
# Definitions whose values are not one JSON type (kubernetes-validate writes them as oneOf).
_SPECIAL = {"resource.Quantity": "quantity", "intstr.IntOrString": "int-or-string"}


def short(name: str) -> str:
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


class Unexpected(Exception):
    pass


def convert(node: dict, where: str) -> object:
    """One JSON schema node to its compact type."""
    if "$ref" in node:
        return "#" + short(node["$ref"].rsplit("/", 1)[-1])
    if "oneOf" in node:
        raise Unexpected(f"{where}: oneOf outside the known special definitions")
    types = node.get("type")
    if types is None:
        return "any"
    if isinstance(types, str):
        types = [types]
    types = [t for t in types if t != "null"]
    if len(types) != 1:
        raise Unexpected(f"{where}: type {node.get('type')!r}")
    kind = types[0]
    if kind == "object":
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        if properties is not None:
            body: dict = {"props": {
                name: ("string" if name in ("apiVersion", "kind") and "enum" in value
                       else convert(value, f"{where}.{name}"))
                for name, value in properties.items()
            }}
            if node.get("required"):
                body["req"] = list(node["required"])
            if extra is not False:
                if isinstance(extra, dict):
                    raise Unexpected(f"{where}: properties and additionalProperties together")
                body["open"] = True
            return body
        if isinstance(extra, dict):
            return {"map": convert(extra, where + "{}")}
        return "object"  # any mapping (RawExtension, FieldsV1, ...)
    if kind == "array":
        return {"list": convert(node.get("items") or {}, where + "[]")}
    if kind == "string":
        fmt = node.get("format")
        if fmt == "byte":
            return "byte"
        if fmt == "int-or-string":
            return "int-or-string"
        return "string"
    if kind == "integer":
        return {"int32": "int32", "int64": "int64"}.get(node.get("format"), "integer")
    if kind in ("number", "boolean"):
        return kind
    raise Unexpected(f"{where}: type {kind!r}")


def version_table(folder: Path) -> tuple[dict[str, object], list[list[str]]]:
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    types: dict[str, object] = {}
    kinds: list[list[str]] = []
    for name, node in definitions.items():
        name_short = short(name)
        special = next((code for suffix, code in _SPECIAL.items() if name_short == suffix), None)
        types[name_short] = special or convert(node, name_short)
        gvks = node.get("x-kubernetes-group-version-kind") or []
        if len(gvks) == 1:  # several: shared option types (DeleteOptions, WatchEvent)
            gvk = gvks[0]
            kinds.append([gvk["group"], gvk["version"], gvk["kind"], name_short])
    return types, sorted(kinds)


def generate(source: Path) -> dict[str, dict]:
    """One document per release; each also names every group any release serves."""
    tables = {version: version_table(source / f"v{version}.0-local-strict") for version in VERSIONS}
    groups = sorted({group for _types, kinds in tables.values() for group, _v, _k, _n in kinds})
    return {
        version: {
            "format": 1,
            "source": f"{PINNED} (Apache-2.0), strict schemas, descriptions removed",
            "version": version,
            "types": types,
            "kinds": kinds,
            "groups": groups,
        }
        for version, (types, kinds) in tables.items()
    }


def download() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="k8slint-schemas-"))
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d",
                    str(folder), PINNED], check=True)
    wheel = next(folder.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder / "unpacked")
    return folder / "unpacked" / "kubernetes_validate" / "kubernetes-json-schema"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="kubernetes_validate/kubernetes-json-schema")
    args = parser.parse_args()
    source = args.source or download()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for version, document in generate(source).items():
        text = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        path = OUTPUT / f"{version}.json.gz"
        path.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
        total += path.stat().st_size
        print(f"{path.name}: {len(document['types'])} definitions, {len(text):,} bytes of JSON, "
              f"{path.stat().st_size:,} gzipped")
    print(f"{len(VERSIONS)} releases, {total:,} bytes in all")


if __name__ == "__main__":
    main()
