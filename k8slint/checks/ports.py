"""Port names and numbers the API server would refuse."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import Violation
from ..kinds import POD_KINDS
from ..loader import is_literal
from ..model import Container, mapping, sequence
from ..rule import View, object_rule

# IANA_SVC_NAME, as Kubernetes validates it: at most 15 characters, lower-case letters,
# digits and single hyphens inside, at least one letter.
_NAME = r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$"  # compiled on first use (re's cache)


def port_name_problem(name: str) -> str | None:
    if not re.match(_NAME, name):
        if len(name) > 15:
            return "is longer than 15 characters"
        return "may hold only lower-case letters, digits and inner hyphens"
    if "--" in name:
        return "may not hold two hyphens in a row"
    if not re.search("[a-z]", name):
        return "must hold at least one letter"
    return None


def _number_problem(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "is outside 1-65535"


def _problem(value: object) -> str | None:
    if isinstance(value, (bool, list, dict)):  # (its type, too, is this rule's to judge)
        return "must be a port number or a port name"
    if isinstance(value, int):
        return _number_problem(value)
    if isinstance(value, str) and is_literal(value):
        if value.isdigit():  # a quoted number is a name to the API, and names need a letter
            return "is a number in quotes, which the API reads as a port name (names need a letter)"
        return port_name_problem(value)
    return None


@object_rule("invalid-target-port", kinds=frozenset({"Service"}) | POD_KINDS)
def invalid_target_port(view: View) -> Iterator[Violation]:
    """A Service's targetPorts, or the ports its pods' containers declare."""
    if view.obj.kind == "Service":
        yield from _service_target_ports(view)
        return
    for container in view.containers:
        yield from _container_ports(container)


def _service_target_ports(view: View) -> Iterator[Violation]:
    for i, port in enumerate(sequence(mapping(view.obj.data.get("spec")).get("ports"))):
        target = mapping(port).get("targetPort")
        # 0, like no targetPort at all, means "the same as port".
        problem = _problem(target) if target not in (None, 0) else None
        if problem:
            yield Violation(("spec", "ports", i, "targetPort"), (
                f"Service {view.obj.name} targetPort {target!s} {problem}: the API server "
                f"rejects the Service; use a container port's number or name"
            ))


def _container_ports(container: Container) -> Iterator[Violation]:
    for i, port in enumerate(sequence(container.data.get("ports"))):
        port = mapping(port)
        name = port.get("name")
        if isinstance(name, str) and is_literal(name):
            problem = port_name_problem(name)
            if problem:
                yield Violation(container.path + ("ports", i, "name"), (
                    f'container "{container.name}" port name "{name}" {problem}: the API '
                    f"server rejects the pod, and Services cannot target it by name; rename it"
                ))
        number = port.get("containerPort")
        if isinstance(number, int) and not isinstance(number, bool) and _number_problem(number):
            yield Violation(container.path + ("ports", i, "containerPort"), (
                f'container "{container.name}" containerPort {number} is outside 1-65535: the '
                f"API server rejects the pod; use a valid port"
            ))
