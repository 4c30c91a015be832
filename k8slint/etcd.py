"""etcd clusters as manifests declare them: how many members, and where that is written;
and what takes snapshots of them.

Core, not a rule: the etcd rules judge the sizes found here, and the cross-object index
flags the StatefulSets that run an etcd member (their size is the etcd rules' business,
not single-replica's) and pairs clusters with their backups. It reads plain data, so both
can ask.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple, TypeGuard
from urllib.parse import urlsplit

from .loader import is_literal
from .model import Container, PodSpec, containers, image_ref, mapping, sequence

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
# The patterns of this module are compiled on first use (re's cache), not when it loads:
# only a container that runs something with arguments needs them.
_FLAG = r"(?s)^--?initial-cluster(?:=(.*))?$"
_FLAG_IN_SCRIPT = r"(?:^|\s)--?initial-cluster(?:=|\s+)(['\"]?)([^\s'\"]+)\1"


class EtcdCluster(NamedTuple):
    path: tuple  # the key or list item that holds the member count
    members: int
    source: str  # how the count was read, for the message
    # The member names an --initial-cluster list gives (the pods of one cluster, written
    # one by one, share them), or the hosts of kubeadm's external endpoints; else empty.
    names: frozenset[str] = frozenset()


def etcd_clusters(data: dict, kind: str, group: str, pod: PodSpec | None) -> Iterator[EtcdCluster]:
    """Every etcd cluster whose size an object states literally; templated values are
    skipped, never guessed. ``data`` is the object, ``kind`` and ``group`` its kind and
    API group, ``pod`` its pod spec (or None).

    Only long-running members count: a Job or an init container that restores a snapshot
    with ``etcdutl snapshot restore --initial-cluster ...`` is not a cluster, nor is a
    ``grpc-proxy`` in front of one.
    """
    if kind == "EtcdCluster":
        size = mapping(data.get("spec")).get("size")
        if _is_count(size):
            yield EtcdCluster(("spec", "size"), size, "spec.size")
        return
    if kind == "ClusterConfiguration" and group == "kubeadm.k8s.io":
        yield from _kubeadm_external(data)
        return
    if pod is None or not pod.long_running:
        return
    members = [c for c in containers(pod) if c.runs_with_pod]
    if kind == "StatefulSet" and any(_runs_etcd_member(c) for c in members):
        replicas = mapping(data.get("spec")).get("replicas")
        if replicas is None:
            yield EtcdCluster(("spec", "replicas"), 1, "replicas unset, so 1")
        elif _is_count(replicas):
            yield EtcdCluster(("spec", "replicas"), replicas, "replicas")
        return
    for container in members:
        found = _from_flags(container) if _may_run_etcd_member(container) else None
        found = found or _from_env(container)
        if found is not None:
            yield found


def _is_count(value: object) -> TypeGuard[int]:
    """An integer, and not a boolean (YAML's true is not 1 to the API server)."""
    return isinstance(value, int) and not isinstance(value, bool)


_NOT_MEMBERS = frozenset({"grpc-proxy", "gateway"})  # etcd subcommands that hold no data
_TOOLS = r"(?:^|[\s/;&|(])(?:etcdctl|etcdutl)\b|\b(?:grpc-proxy|gateway)\b"


def _words(container: Container) -> list[str]:
    return [w for w in sequence(container.data.get("command")) + sequence(container.data.get("args"))
            if isinstance(w, str)]


def _runs_etcd_member(container: Container) -> bool:
    """The container runs the etcd server itself: by its command, or by an etcd image
    whose entrypoint is not overridden."""
    command = sequence(container.data.get("command"))
    args = sequence(container.data.get("args"))
    if command:
        if _is_etcd_binary(command[0]):
            rest = command[1:] + args
            return not (rest and isinstance(rest[0], str) and rest[0] in _NOT_MEMBERS)
        if isinstance(command[0], str) and command[0].rpartition("/")[2] in SHELLS:
            scripts = [a for a in command[1:] + args if isinstance(a, str)]
            return (any(_script_runs_etcd(s) for s in scripts)
                    and not any(re.search(_TOOLS, s) for s in scripts))
        return False
    image = container.data.get("image")
    if isinstance(image, str) and image_ref(image).basename == "etcd":
        return not (args and isinstance(args[0], str) and args[0] in _NOT_MEMBERS)
    return False


def _may_run_etcd_member(container: Container) -> bool:
    """Flags alone are evidence enough unless the command is an etcd tool or proxy."""
    return _runs_etcd_member(container) or not any(re.search(_TOOLS, w) for w in _words(container))


def _is_etcd_binary(word: object) -> bool:
    return isinstance(word, str) and word.rpartition("/")[2] == "etcd"


def _script_runs_etcd(script: str) -> bool:
    return any(_is_etcd_binary(word) for word in re.split(r"[\s;&|()`]+", script))


def _member_names(value: str) -> frozenset[str] | None:
    """Distinct member names of ``name=peer-url,...``; None when not literal or malformed."""
    names = set()
    for entry in value.split(","):
        name, eq, url = entry.strip().partition("=")
        if not eq or not name or not url or not is_literal(name):
            return None
        names.add(name)
    return frozenset(names) or None


def _from_flags(container: Container) -> EtcdCluster | None:
    args = sequence(container.data.get("command")) + sequence(container.data.get("args"))
    n_command = len(sequence(container.data.get("command")))

    def path_of(index: int) -> tuple:
        if index < n_command:
            return container.path + ("command", index)
        return container.path + ("args", index - n_command)

    for i, arg in enumerate(args):
        if not isinstance(arg, str):
            continue
        match = re.match(_FLAG, arg)
        if match:
            if match.group(1) is not None:
                value, at = match.group(1), i
            elif i + 1 < len(args) and isinstance(args[i + 1], str):
                value, at = args[i + 1], i + 1
            else:
                continue
            names = _member_names(value)
            if names is not None:
                return EtcdCluster(path_of(at), len(names), "--initial-cluster", names)
            continue
        script = re.search(_FLAG_IN_SCRIPT, arg)
        if script:
            names = _member_names(script.group(2))
            if names is not None:
                return EtcdCluster(path_of(i), len(names), "--initial-cluster", names)
    return None


def _from_env(container: Container) -> EtcdCluster | None:
    for i, env in enumerate(sequence(container.data.get("env"))):
        if isinstance(env, dict) and env.get("name") == "ETCD_INITIAL_CLUSTER":
            value = env.get("value")
            if isinstance(value, str):
                names = _member_names(value)
                if names is not None:
                    return EtcdCluster(container.path + ("env", i, "value"), len(names),
                                       "ETCD_INITIAL_CLUSTER", names)
    return None


def _kubeadm_external(data: dict) -> Iterator[EtcdCluster]:
    endpoints = mapping(mapping(data.get("etcd")).get("external")).get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        return
    hosts = set()
    for endpoint in endpoints:
        if not is_literal(endpoint):
            return
        parts = urlsplit(endpoint if "//" in endpoint else "//" + endpoint)
        if not parts.hostname:
            return
        hosts.add(parts.hostname)
    yield EtcdCluster(("etcd", "external", "endpoints"), len(hosts), "external endpoints",
                      frozenset(hosts))


# --- backups --------------------------------------------------------------------------------

# The backup resources of etcd operators, by API group: each makes the operator take
# snapshots of a cluster it runs (coreos/etcd-operator's EtcdBackup; the EtcdBackup and
# EtcdBackupSchedule of improbable-eng/etcd-cluster-operator and of aenix-io/etcd-operator,
# now cozystack's, whose newer API calls a snapshot EtcdSnapshot).
BACKUP_KINDS: dict[str, frozenset[str]] = {
    "etcd.database.coreos.com": frozenset({"EtcdBackup"}),
    "etcd.improbable.io": frozenset({"EtcdBackup", "EtcdBackupSchedule"}),
    "etcd.aenix.io": frozenset({"EtcdBackup", "EtcdBackupSchedule"}),
    "etcd-operator.cozystack.io": frozenset({"EtcdSnapshot"}),
}
_SNAPSHOT_SAVE = r"\betcdctl\b[^;&|\n]*?\bsnapshot\s+save\b"
_ENDPOINTS = r"--endpoints(?:=|\s+)(['\"]?)([^\s'\"]+)\1"


class EtcdBackup(NamedTuple):
    """Something that takes snapshots of an etcd cluster."""

    # The hosts its endpoints name (``etcd-client.db.svc``, ``10.0.0.5``); None when it
    # names none literally, so that only its own namespace tells which cluster it saves.
    hosts: frozenset[str] | None


def etcd_backup(data: dict, kind: str, group: str, pod: PodSpec | None) -> EtcdBackup | None:
    """How an object takes etcd snapshots, or None: an etcd operator's backup resource, an
    EtcdCluster that asks its operator for backups, or a pod that runs
    ``etcdctl snapshot save`` (a CronJob's, a Job's, a sidecar's loop). A CronJob running an
    etcd image's own snapshot script (Bitnami's ``snapshot.sh``) counts as well."""
    spec = mapping(data.get("spec"))
    if kind in BACKUP_KINDS.get(group, ()):
        return EtcdBackup(_hosts(spec.get("etcdEndpoints")))
    if kind == "EtcdCluster":
        backup = spec.get("backup")
        if isinstance(backup, dict) and backup.get("enabled") is not False:
            return EtcdBackup(None)
        return None
    if pod is None:
        return None
    for container in containers(pod):
        words = _words(container)
        text = " ".join(words)
        if re.search(_SNAPSHOT_SAVE, text) or (kind == "CronJob" and _runs_snapshot_script(container, words)):
            endpoints = re.search(_ENDPOINTS, text)
            value = endpoints.group(2) if endpoints else _env(container, "ETCDCTL_ENDPOINTS")
            return EtcdBackup(_hosts(value.split(",") if isinstance(value, str) else None))
    return None


def _runs_snapshot_script(container: Container, words: list[str]) -> bool:
    image = container.data.get("image")
    if not isinstance(image, str) or image_ref(image).basename != "etcd":
        return False
    return any("snapshot" in word.rpartition("/")[2] and "restore" not in word for word in words)


def _env(container: Container, name: str) -> str | None:
    for env in sequence(container.data.get("env")):
        if isinstance(env, dict) and env.get("name") == name and isinstance(env.get("value"), str):
            value: str = env["value"]
            return value
    return None


def _hosts(endpoints: object) -> frozenset[str] | None:
    """The hosts of a list of endpoint URLs; None unless every one is literal."""
    if not isinstance(endpoints, list) or not endpoints:
        return None
    hosts = set()
    for endpoint in endpoints:
        if not is_literal(endpoint):
            return None
        parts = urlsplit(endpoint if "//" in endpoint else "//" + endpoint)
        try:
            host = parts.hostname
        except ValueError:
            return None
        if not host:
            return None
        hosts.add(host)
    return frozenset(hosts)
