"""Isolation between a pod and its node: namespaces, privileges, host files, kernel settings."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from ..findings import Violation
from ..loader import is_literal
from ..model import Container, PodSpec, mapping, sequence
from ..rule import APP, LINUX_PODS, View, container_rule, pod_rule
from ._util import effective, host_paths, is_count, security_context

# --- host namespaces ------------------------------------------------------------------------

_HOST_NAMESPACES = {
    "hostNetwork": (
        "network",
        "its containers can bind any port of the node, see the node's traffic and reach "
        "services listening on the node's localhost, and two replicas on one node collide on "
        "their ports",
    ),
    "hostPID": (
        "process",
        "its containers see every process on the node and, as root, can signal or trace "
        "them and read their environment and files",
    ),
    "hostIPC": (
        "IPC",
        "its containers can read and write the shared memory and message queues of every "
        "process on the node",
    ),
}


def _host_namespace(spec: PodSpec, field: str) -> Iterator[Violation]:
    if spec.spec.get(field) is not True:
        return
    namespace, risk = _HOST_NAMESPACES[field]
    yield Violation(
        spec.path + (field,),
        f"the pod shares the node's {namespace} namespace ({field}: true): {risk}; remove "
        f"{field} unless this is a node agent that needs it",
    )


@pod_rule("host-network")
def host_network(view: View) -> Iterator[Violation]:
    return _host_namespace(view.pod, "hostNetwork")


@pod_rule("host-pid")
def host_pid(view: View) -> Iterator[Violation]:
    return _host_namespace(view.pod, "hostPID")


@pod_rule("host-ipc")
def host_ipc(view: View) -> Iterator[Violation]:
    return _host_namespace(view.pod, "hostIPC")


# --- privileges -----------------------------------------------------------------------------


def _capabilities(container: Container, which: str) -> list:
    return sequence(mapping(security_context(container.data).get("capabilities")).get(which))


def _is_privileged(container: Container) -> bool:
    return security_context(container.data).get("privileged") is True


@container_rule("privileged-container")
def privileged_container(view: View) -> Iterator[Violation]:
    container = view.container
    if _is_privileged(container):
        yield Violation(
            container.path + ("securityContext", "privileged"),
            f'container "{container.name}" runs privileged: it gets every capability and '
            f"every device of the node, so whoever controls it is root on the node; "
            f"remove privileged and add only the capabilities it needs",
        )


def _cap_name(value: object) -> str | None:
    if not is_literal(value):
        return None
    name = value.strip().upper()
    return name[4:] if name.startswith("CAP_") else name


@container_rule("privilege-escalation")
def privilege_escalation(view: View) -> Iterator[Violation]:
    container = view.container
    if _is_privileged(container):
        return  # privileged always escalates: privileged-container's finding
    context = security_context(container.data)
    if context.get("allowPrivilegeEscalation") is True:
        yield Violation(
            container.path + ("securityContext", "allowPrivilegeEscalation"),
            f'container "{container.name}" sets allowPrivilegeEscalation: true: a '
            f"process in it can gain more privileges than its parent (setuid binaries, "
            f"file capabilities); set it to false",
        )
        return
    for i, cap in enumerate(_capabilities(container, "add")):
        if _cap_name(cap) == "SYS_ADMIN":
            yield Violation(
                container.path + ("securityContext", "capabilities", "add", i),
                f'container "{container.name}" adds {cap}, which always allows privilege '
                f"escalation (allowPrivilegeEscalation cannot be false with it) and is "
                f"close to root on the node; add the narrower capability it needs instead",
            )
            break


# --- users and filesystems ------------------------------------------------------------------


@container_rule("run-as-non-root", containers=APP, pods=LINUX_PODS)
def run_as_non_root(view: View) -> Iterator[Violation]:
    spec, container = view.pod, view.container
    non_root = effective("runAsNonRoot", container, spec)
    user = effective("runAsUser", container, spec)
    if isinstance(non_root, str) or isinstance(user, str):
        return  # templated: not guessed
    path = container.path + ("securityContext", "runAsNonRoot")
    if is_count(user) and user == 0:
        if non_root is True:
            yield Violation(
                container.path + ("securityContext", "runAsUser"),
                f'container "{container.name}" sets runAsUser: 0 and runAsNonRoot: true: '
                f"the kubelet refuses to start it (CreateContainerConfigError); run it "
                f"as a non-zero user",
            )
        else:
            yield Violation(
                container.path + ("securityContext", "runAsUser"),
                f'container "{container.name}" runs as root (runAsUser: 0): a process '
                f"that escapes the container is root on the node; run it as a non-zero "
                f"user and set runAsNonRoot: true",
            )
    elif non_root is True or (is_count(user) and user > 0):
        return
    else:
        set_false = " (runAsNonRoot is false)" if non_root is False else ""
        yield Violation(
            path,
            f'container "{container.name}" may run as root{set_false}: neither it nor '
            f"the pod sets runAsNonRoot: true or a non-zero runAsUser, so it runs as the "
            f"image's user, often root; set runAsNonRoot: true and a runAsUser in the "
            f"pod's securityContext",
        )


@container_rule("read-only-root-filesystem", containers=APP, pods=LINUX_PODS)
def read_only_root_filesystem(view: View) -> Iterator[Violation]:
    container = view.container
    value = security_context(container.data).get("readOnlyRootFilesystem")
    if value is True or (isinstance(value, str) and not is_literal(value)):
        return
    yield Violation(
        container.path + ("securityContext", "readOnlyRootFilesystem"),
        f'container "{container.name}" can write to its root filesystem: an intruder can '
        f"change its binaries or drop tools there, and its writes fill the node's disk "
        f"outside any volume; set securityContext.readOnlyRootFilesystem: true and mount "
        f"an emptyDir where it must write",
    )


@container_rule("net-raw-not-dropped", containers=APP, pods=LINUX_PODS)
def net_raw_not_dropped(view: View) -> Iterator[Violation]:
    container = view.container
    if _is_privileged(container):
        return  # has every capability whatever it drops: privileged-container's finding
    dropped = _capabilities(container, "drop")
    names = {_cap_name(cap) for cap in dropped}
    if None in names or names & {"NET_RAW", "ALL"}:
        return
    yield Violation(
        container.path + ("securityContext", "capabilities", "drop"),
        f'container "{container.name}" keeps the NET_RAW capability: with it a process '
        f"can craft raw packets and spoof or sniff traffic of other pods on the node's "
        f"network; add ALL (or NET_RAW) to securityContext.capabilities.drop",
    )


# --- kernel settings ------------------------------------------------------------------------

# The sysctls the kubelet allows without --allowed-unsafe-sysctls (Kubernetes 1.32).
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
})


def _sysctl_name(name: str) -> str:
    """``net/ipv4/conf/eth0.100/rp_filter`` is ``net.ipv4.conf.eth0/100.rp_filter``."""
    if "/" in name:
        return name.translate(str.maketrans("./", "/."))
    return name


@pod_rule("unsafe-sysctls")
def unsafe_sysctls(view: View) -> Iterator[Violation]:
    spec = view.pod
    host_network = spec.spec.get("hostNetwork") is True
    sysctls = sequence(security_context(spec.spec).get("sysctls"))
    for i, item in enumerate(sysctls):
        raw = mapping(item).get("name")
        if not is_literal(raw):
            continue
        name = _sysctl_name(raw.strip())
        path = spec.path + ("securityContext", "sysctls", i, "name")
        if name not in SAFE_SYSCTLS:
            yield Violation(
                path,
                f'sysctl "{raw}" is not in Kubernetes\' safe set: the kubelet refuses to start '
                f"the pod (SysctlForbidden) on every node that does not allow it with "
                f"--allowed-unsafe-sysctls, and it may affect other pods on the node; set it "
                f"on the nodes, or schedule the pod only where it is allowed",
            )
        elif host_network and name.startswith("net."):
            yield Violation(
                path,
                f'sysctl "{raw}" is set on a pod with hostNetwork: true: it would change the '
                f"node's own network settings, so Kubernetes refuses net.* sysctls there; "
                f"remove it or hostNetwork",
            )


# --- host files -----------------------------------------------------------------------------

_SYSTEM_FILES = (
    "the node's system binaries and libraries: a write there runs as root on the next boot or exec"
)
SENSITIVE_HOST_PATHS = {
    "/": "the node's whole filesystem",
    "/bin": _SYSTEM_FILES,
    "/boot": "the node's kernel and boot loader",
    "/dev": "every device of the node, disks included",
    "/etc": "the node's configuration, with its credentials and keys",
    "/etc/kubernetes": "the node's Kubernetes credentials and certificates",
    "/lib": _SYSTEM_FILES,
    "/lib64": _SYSTEM_FILES,
    "/proc": "every process of the node, with their environment and memory",
    "/root": "root's home folder on the node, with its keys",
    "/run": "the node's runtime state and sockets (container runtime, systemd)",
    "/sbin": _SYSTEM_FILES,
    "/sys": "the node's kernel settings and devices",
    "/usr": _SYSTEM_FILES,
    "/var": "the node's state: every pod's volumes, secrets and container files",
    "/var/lib/containerd": "every container's filesystem on the node",
    "/var/lib/docker": "every container's filesystem on the node",
    "/var/lib/kubelet": "every pod's volumes and secrets, and the kubelet's credentials",
    "/var/run": "the node's runtime state and sockets (container runtime, systemd)",
}


@pod_rule("sensitive-host-mounts")
def sensitive_host_mounts(view: View) -> Iterator[Violation]:
    spec = view.pod
    for host_path in host_paths(spec):
        exposed = SENSITIVE_HOST_PATHS.get(host_path.host_path)
        if exposed is None:
            continue
        yield Violation(
            host_path.path,
            f'hostPath volume "{host_path.name}" mounts {host_path.host_path} from the node, '
            f"which exposes {exposed}; mount only the file or folder it needs, read-only, or "
            f"use a ConfigMap, Secret or CSI volume",
        )


# Runtime sockets: whoever can talk to one can start a privileged container on the node.
_SOCKET_FILES = frozenset({
    "docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "dockershim.sock",
    "podman.sock",
})
_SOCKET_FOLDERS = frozenset({
    "/run/containerd", "/var/run/containerd", "/run/crio", "/var/run/crio",
    "/run/docker", "/var/run/docker", "/run/k3s/containerd", "/run/podman", "/var/run/podman",
})


@pod_rule("docker-socket")
def docker_socket(view: View) -> Iterator[Violation]:
    spec = view.pod
    for host_path in host_paths(spec):
        if host_path.host_path.rpartition("/")[2] in _SOCKET_FILES:
            what = f"the container runtime's socket {host_path.host_path}"
        elif host_path.host_path in _SOCKET_FOLDERS:
            what = f"{host_path.host_path}, the folder of the container runtime's socket"
        else:
            continue
        yield Violation(
            host_path.path,
            f'hostPath volume "{host_path.name}" mounts {what}: whoever can talk to it can '
            f"start a privileged container on the node, which is root on the node; remove "
            f"it (build images with a daemonless builder such as BuildKit or Kaniko)",
        )


# --- secrets --------------------------------------------------------------------------------

# Words of an env var name that say it holds a secret; names are split into words at
# "_", "-", "." and camelCase humps, so MAX_TOKENS and TOKENIZER are not secrets.
_SECRET_WORDS = frozenset({
    "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS",
    "PRIVATEKEY", "SECRETKEY", "ACCESSKEY",
})
_SECRET_PAIRS = frozenset({
    ("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("AUTH", "KEY"), ("SIGNING", "KEY"),
    ("ENCRYPTION", "KEY"),
})
# The last word of a name that is about a secret without being one: PASSWORD_FILE, TOKEN_TTL.
_NOT_THE_SECRET = frozenset({
    "FILE", "PATH", "DIR", "NAME", "REF", "ID", "TTL", "TIMEOUT", "EXPIRY", "EXPIRATION",
    "EXPIRES", "LIFETIME", "DURATION", "AGE", "LENGTH", "SIZE", "LIMIT", "COUNT", "MOUNT",
    "ENABLED", "ENABLE", "DISABLED", "DISABLE", "REQUIRED", "TYPE", "KIND", "MODE", "HEADER",
    "AUDIENCE", "ISSUER", "ALGORITHM", "URL", "URI", "ENDPOINT", "HOST", "PORT", "VERSION",
    "FORMAT", "NAMESPACE", "KEYS", "FIELD", "PROVIDER", "LOCATION", "STORE", "POLICY",
})
# Well-known names that only look like secrets: etcd's cluster token just keeps two
# clusters bootstrapped on one network apart.
_NOT_SECRETS = frozenset({"ETCD_INITIAL_CLUSTER_TOKEN", "INITIAL_CLUSTER_TOKEN"})
# The patterns below are compiled on first use (re's cache), not when the module loads:
# only a secret-like variable with a literal value needs them.
# Values that switch something on or off, or count, rather than hold a secret.
_SWITCH_OR_COUNT = r"(?i)^(true|false|yes|no|on|off|enabled?|disabled?|none|null|\d{1,3})$"
# A file the secret is read from: a path from the root, the working folder or home, or a
# path-like name with an extension secrets are kept in (tls.key, sa/credentials.json).
_FILE_PATH = (
    r"(?is)^(?:/|\./|\.\./|~/).*$"
    r"|^[\w.@+-]+(?:/[\w.@+-]+)*\.(?:pem|key|crt|cert|cer|der|csr|p12|pfx|jks|keystore|truststore"
    r"|pub|asc|gpg|json|ya?ml|toml|ini|conf|cfg|env|txt|properties|xml)$"
)
# Where a secret manager or an injector is told to fetch the secret from.
_SECRET_REFERENCE = (
    r"(?i)^(?:secretref:|vault:|ref\+|arn:aws:(?:secretsmanager|ssm|kms):|sm://|berglas://|op://"
    r"|gcpsm:|awssm:|azkv:|akv://|keyvault:|<path:|@microsoft\.keyvault\(|projects/[^/\s]+/secrets/)"
)
# One setting of a list of them: etcd's --auth-token "jwt,priv-key=/path,sign-method=RS256".
_SETTING = r"(?s)^\s*([A-Za-z][\w.-]*)\s*(?:=(.*))?$"


def _not_a_secret_value(text: str) -> bool:
    """Whether a literal value reads as a switch, a count, a file path, a reference to a
    secret kept elsewhere, or a list of settings none of which is itself a secret."""
    if re.match(_SWITCH_OR_COUNT, text) or re.match(_FILE_PATH, text) or re.match(_SECRET_REFERENCE, text):
        return True
    settings: list[tuple[str, str | None]] = []
    for part in re.split(r"[,;]", text):
        match = re.match(_SETTING, part)
        if match is None:
            return False
        settings.append((match.group(1), match.group(2)))
    if len(settings) < 2 or all(value is None for _, value in settings):
        return False
    return all(
        value is None or not value.strip() or not _names_a_secret_setting(key)
        or _not_a_secret_value(value.strip())
        for key, value in settings
    )


def _names_a_secret_setting(key: str) -> bool:
    """A setting inside a value: a secret-like name, or the short ones such lists use
    (``priv-key=``, ``PWD=`` of an ODBC connection string)."""
    words = re.split(r"[^A-Z0-9]+", _HUMP.sub("_", key).upper())
    return _secret_like(key) or words[-1] in ("KEY", "PWD", "PASS")


_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _secret_like(name: str) -> bool:
    words = [w for w in re.split(r"[^A-Z0-9]+", _HUMP.sub("_", name).upper()) if w]
    if not words or "_".join(words) in _NOT_SECRETS or words[-1] in _NOT_THE_SECRET:
        return False
    if any(w in _SECRET_WORDS or "PASSWORD" in w or "PASSWD" in w for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


@container_rule("env-secret-value")
def env_secret_value(view: View) -> Iterator[Violation]:
    container = view.container
    for i, env in enumerate(sequence(container.data.get("env"))):
        if not isinstance(env, dict):
            continue
        name, value = env.get("name"), env.get("value")
        if not is_literal(name) or not _secret_like(name):
            continue
        text = value.strip() if is_literal(value) else ""
        if not text or _not_a_secret_value(text):
            continue
        yield Violation(
            container.path + ("env", i, "value"),
            f'container "{container.name}" sets {name} to a literal value: whoever can '
            f"read the manifest or the object (the repository, kubectl get) reads the "
            f"secret, and rotating it means a new rollout; take it from a Secret with "
            f"valueFrom.secretKeyRef",
        )


# --- ports ----------------------------------------------------------------------------------


@container_rule("ssh-port")
def ssh_port(view: View) -> Iterator[Violation]:
    container = view.container
    for i, port in enumerate(sequence(container.data.get("ports"))):
        number = mapping(port).get("containerPort")
        if is_count(number) and number == 22:
            yield Violation(
                container.path + ("ports", i, "containerPort"),
                f'container "{container.name}" exposes port 22 (SSH): a login server in '
                f"a container is a way in that bypasses RBAC and audit logs, with keys "
                f"baked into the image; use kubectl exec or kubectl debug instead, unless "
                f"SSH is the service it provides (a Git server)",
            )

