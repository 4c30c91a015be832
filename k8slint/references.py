"""What objects name of each other: the Services an Ingress routes to, the ConfigMaps and
Secrets a pod reads (and their keys), the keys a ConfigMap or Secret holds, and the ones
other objects make.

Core, not a rule: the cross-object index reads these while the nodes are there, and the
reference rules look them up once every file has been read. Names and keys a template
fills in are left out, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from .loader import is_literal
from .model import PodSpec, containers, mapping, sequence

CONFIG_KINDS = ("ConfigMap", "Secret")


class Reference(NamedTuple):
    """One object naming another: an Ingress its backend Service, a pod a ConfigMap or
    Secret (and maybe one of its keys), an autoscaler the workload it scales."""

    kind: str  # the kind named: Service, ConfigMap, Secret, or a workload's
    name: str  # literal
    path: tuple  # where the name is written
    # A ConfigMap's or Secret's key, a Service's port (a number or a name), the apiVersion
    # an autoscaler names its target by; None for the whole object, or when the part is
    # not literal (then only the object is looked for).
    part: str | int | None = None
    part_path: tuple = ()
    optional: bool = False  # optional: true, so a missing object or key is no error


def _literal_name(value: Any) -> str | None:
    return value if is_literal(value) and value else None


def _is_optional(ref: dict) -> bool:
    return ref.get("optional") is True


# --- ConfigMaps and Secrets a pod reads -------------------------------------------------------


def config_references(pod: PodSpec) -> Iterator[Reference]:
    """Every ConfigMap and Secret a pod spec reads: env and envFrom of every container, and
    configMap, secret and projected volumes (their items' keys included)."""
    for container in containers(pod):
        for i, env in enumerate(sequence(container.data.get("env"))):
            value_from = mapping(mapping(env).get("valueFrom"))
            for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = value_from.get(field)
                if isinstance(ref, dict):
                    path = container.path + ("env", i, "valueFrom", field)
                    yield from _keyed(kind, ref, "name", path, ref.get("key"), path + ("key",))
        for i, env_from in enumerate(sequence(container.data.get("envFrom"))):
            for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = mapping(env_from).get(field)
                if isinstance(ref, dict):
                    yield from _keyed(kind, ref, "name", container.path + ("envFrom", i, field))
    for i, item in enumerate(sequence(pod.spec.get("volumes"))):
        volume = mapping(item)
        path = pod.path + ("volumes", i)
        for field, kind, name_key in (("configMap", "ConfigMap", "name"), ("secret", "Secret", "secretName")):
            if isinstance(volume.get(field), dict):
                yield from _volume(kind, volume[field], name_key, path + (field,))
        sources = mapping(volume.get("projected")).get("sources")
        for j, projection in enumerate(sequence(sources)):
            for field, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                projected = mapping(projection).get(field)
                if isinstance(projected, dict):
                    yield from _volume(kind, projected, "name", path + ("projected", "sources", j, field))


def _keyed(kind: str, ref: dict, name_key: str, path: tuple, key: Any = None,
           key_path: tuple = ()) -> Iterator[Reference]:
    name = _literal_name(ref.get(name_key))
    if name is None:
        return
    part = key if is_literal(key) and key else None
    yield Reference(kind, name, path + (name_key,), part, key_path if part else (), _is_optional(ref))


def _volume(kind: str, source: dict, name_key: str, path: tuple) -> Iterator[Reference]:
    """The object a volume mounts, then each key its items pick (without items, every key
    is mounted, and none is required)."""
    items = sequence(source.get("items"))
    yield from _keyed(kind, source, name_key, path)
    for k, item in enumerate(items):
        yield from _keyed(kind, source, name_key, path, mapping(item).get("key"),
                          path + ("items", k, "key"))


# --- keys -------------------------------------------------------------------------------------

# Secrets whose keys a controller writes: a service account's token, and what it holds.
_FILLED_BY_CONTROLLERS = frozenset({"kubernetes.io/service-account-token"})


def config_keys(data: dict) -> frozenset[str] | None:
    """The keys a ConfigMap (``data``, ``binaryData``) or Secret (``data``, ``stringData``)
    holds; None when one is not literal, or when a controller fills them in."""
    fields = ("data", "binaryData") if data.get("kind") == "ConfigMap" else ("data", "stringData")
    if data.get("kind") == "Secret" and data.get("type") in _FILLED_BY_CONTROLLERS:
        return None
    keys: set[str] = set()
    for field in fields:
        value = data.get(field)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(is_literal(key) for key in value):
            return None
        keys.update(value)
    return frozenset(keys)


class Made(NamedTuple):
    """A ConfigMap or Secret another object makes: a kustomize generator, a controller."""

    kind: str
    name: str
    namespaces: tuple[str | None, ...]  # where it lands
    keys: frozenset[str] | None  # None: not known until it is made


# cert-manager writes the certificate, its key and its issuer's CA into the Secret it names.
_CERTIFICATE_KEYS = frozenset({"tls.crt", "tls.key", "ca.crt"})


def made_configs(data: dict, kind: str, group: str, namespace: str | None) -> Iterator[Made]:
    """ConfigMaps and Secrets an object makes: kustomize's generators (every key unknown,
    as files and env files are not read), a SealedSecret, an ExternalSecret, a
    cert-manager Certificate."""
    spec = mapping(data.get("spec"))
    name = _literal_name(mapping(data.get("metadata")).get("name"))
    if kind in ("Kustomization", "Component") and group == "kustomize.config.k8s.io":
        # The generated objects land in the build's namespace; the plain files the
        # kustomization lists usually name none, so they are looked up in both.
        build = data.get("namespace") if is_literal(data.get("namespace")) else None
        for field, made in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            for generator in sequence(data.get(field)):
                generated = _literal_name(mapping(generator).get("name"))
                own = mapping(generator).get("namespace")
                target = own if is_literal(own) else build
                if generated is not None:
                    yield Made(made, generated, (namespace, None, target), None)
    elif kind == "SealedSecret" and group == "bitnami.com" and name is not None:
        template = mapping(spec.get("template"))
        named = _literal_name(mapping(template.get("metadata")).get("name")) or name
        encrypted = spec.get("encryptedData")
        plain = template.get("data")
        keys = None
        if isinstance(encrypted, dict) and (plain is None or isinstance(plain, dict)):
            every = list(encrypted) + list(mapping(plain))
            keys = frozenset(every) if all(is_literal(k) for k in every) else None
        yield Made("Secret", named, (namespace,), keys)
    elif kind == "ExternalSecret" and group == "external-secrets.io" and name is not None:
        target = mapping(spec.get("target"))
        named = _literal_name(target.get("name")) or name
        keys = None
        if not spec.get("dataFrom") and not target.get("template"):
            every = [mapping(item).get("secretKey") for item in sequence(spec.get("data"))]
            keys = frozenset(every) if all(is_literal(k) for k in every) else None
        yield Made("Secret", named, (namespace,), keys)
    elif kind == "Certificate" and group == "cert-manager.io":
        secret = _literal_name(spec.get("secretName"))
        if secret is not None:
            extra = spec.get("keystores") or spec.get("additionalOutputFormats")
            yield Made("Secret", secret, (namespace,), None if extra else _CERTIFICATE_KEYS)


# --- Ingress backends -------------------------------------------------------------------------

INGRESS_GROUPS = frozenset({"networking.k8s.io", "extensions"})


def ingress_backends(data: dict) -> Iterator[Reference]:
    """The Services an Ingress sends requests to, with their ports: the default backend
    (``defaultBackend``, or ``backend`` in v1beta1) and each rule path's backend, in both
    shapes (``service: {name, port: {number | name}}`` and v1beta1's ``serviceName`` and
    ``servicePort``). Resource backends name no Service."""
    spec = mapping(data.get("spec"))
    for field in ("defaultBackend", "backend"):
        if isinstance(spec.get(field), dict):
            yield from _backend(spec[field], ("spec", field))
    for i, rule in enumerate(sequence(spec.get("rules"))):
        paths = mapping(mapping(rule).get("http")).get("paths")
        for j, item in enumerate(sequence(paths)):
            backend = mapping(item).get("backend")
            if isinstance(backend, dict):
                yield from _backend(backend, ("spec", "rules", i, "http", "paths", j, "backend"))


# A backend whose port is named "use-annotation" is an action of the AWS Load Balancer
# Controller (a redirect, a fixed response), defined by an `alb.ingress.kubernetes.io/
# actions.<name>` annotation: it names no Service.
ACTION_PORT = "use-annotation"


def _backend(backend: dict, path: tuple) -> Iterator[Reference]:
    service = backend.get("service")
    if isinstance(service, dict):
        name = _literal_name(service.get("name"))
        port = mapping(service.get("port"))
        if name is None or port.get("name") == ACTION_PORT:
            return
        part, part_path = _port(port.get("number"), path + ("service", "port", "number"))
        if part is None:
            part, part_path = _port(port.get("name"), path + ("service", "port", "name"))
        yield Reference("Service", name, path + ("service", "name"), part, part_path)
        return
    name = _literal_name(backend.get("serviceName"))
    if name is not None and backend.get("servicePort") != ACTION_PORT:
        part, part_path = _port(backend.get("servicePort"), path + ("servicePort",))
        yield Reference("Service", name, path + ("serviceName",), part, part_path)


def _port(value: Any, path: tuple) -> tuple[str | int | None, tuple]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, path
    if is_literal(value) and value:
        return (int(value) if value.isdigit() else value), path
    return None, ()
