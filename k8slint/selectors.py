"""Label selectors: one evaluation for every rule that matches pods to what selects them."""

from __future__ import annotations

from .loader import is_literal
from .model import mapping, sequence


def label_text(value: object) -> str | None:
    """A label key or value as the API server stores it; None when templated or not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, float):
        return str(value)
    if value is None:
        return ""
    if is_literal(value):
        return value
    return None


class UnknownSelector(Exception):
    """A templated or malformed selector: never guessed."""


def selector_mismatch(selector: dict, labels: dict) -> str | None:
    """Why ``selector`` does not select ``labels``, or None when it does."""
    for key, want in mapping(selector.get("matchLabels")).items():
        key_text, want_text = label_text(key), label_text(want)
        if key_text is None or want_text is None:
            raise UnknownSelector
        have = labels.get(key_text)
        if have != want_text:
            got = f"has {key_text}={have}" if have is not None else f"has no {key_text} label"
            return f"matchLabels wants {key_text}={want_text}, but the pod template {got}"
    expressions = selector.get("matchExpressions")
    if expressions is not None and not isinstance(expressions, list):
        raise UnknownSelector
    for expression in sequence(expressions):
        if not isinstance(expression, dict):
            raise UnknownSelector
        key, operator = label_text(expression.get("key")), expression.get("operator")
        raw_values = expression.get("values")
        if key is None or (raw_values is not None and not isinstance(raw_values, list)):
            raise UnknownSelector
        texts = [label_text(v) for v in sequence(raw_values)]
        values = [text for text in texts if text is not None]
        if len(values) != len(texts):
            raise UnknownSelector
        have = labels.get(key)
        shown = ", ".join(values)
        if operator == "In" and have not in values:
            got = f"has {key}={have}" if have is not None else f"has no {key} label"
            return f"matchExpressions wants {key} In ({shown}), but the pod template {got}"
        if operator == "NotIn" and have in values:
            return f"matchExpressions wants {key} NotIn ({shown}), but the pod template has {key}={have}"
        if operator == "Exists" and have is None:
            return f"matchExpressions wants a {key} label, but the pod template has none"
        if operator == "DoesNotExist" and have is not None:
            return f"matchExpressions wants no {key} label, but the pod template has {key}={have}"
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise UnknownSelector  # the API server rejects it; not this rule's finding
    return None


def selector_matches(selector: dict, labels: dict) -> bool:
    """Whether a LabelSelector selects a label set; an unknowable selector selects nothing."""
    try:
        return selector_mismatch(selector, labels) is None
    except UnknownSelector:
        return False
