"""The render server: a child process that owns the embedded Helm engine (helm-python-sdk).

Never imported by k8slint: ``k8slint.helm`` runs this file's source with ``python -I -c``
in a process of its own, so that Helm's Go runtime is never loaded into a process that
may fork later, and a render that hangs can be ended by killing the process. It needs
nothing but the standard library and ``helm_python`` (whose folder is passed as the first
argument, since ``-I`` ignores PYTHONPATH).

Protocol: one JSON request per line on stdin; per request, one reply on stdout written as
ten ASCII digits (the length of the JSON that follows), a newline, then the JSON. It
exits when stdin closes. Requests::

    {"chart": folder, "values": [yaml text, ...], "options": {...}}

Replies: ``{"templates": {name: raw rendered text}}`` or ``{"error": {"where": "engine" |
"values" | "chart" | "render", "index": values file index, "message": text}}``.
"""

import json
import sys


def _merge(base: dict, override: dict) -> dict:
    """Helm's merge of successive ``--values`` files: maps merge key by key, anything else
    from a later file replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "detail", None) or exc) or type(exc).__name__


def _handle(request: dict) -> dict:
    try:
        from helm_python import Chart, _native, values_from_yaml
    except Exception as exc:  # the extra is broken (no wheel for this platform, ...)
        return {"error": {"where": "engine", "message": _message(exc)}}
    values: dict = {}
    for index, text in enumerate(request.get("values", ())):
        try:
            parsed = values_from_yaml(text)
        except Exception as exc:
            return {"error": {"where": "values", "index": index, "message": _message(exc)}}
        values = _merge(values, parsed if isinstance(parsed, dict) else {})
    try:
        chart = Chart.load(request["chart"])
    except Exception as exc:
        return {"error": {"where": "chart", "message": _message(exc)}}
    try:
        # The wrapper's Chart.render() does not pass a Kubernetes version; the native call
        # takes one (with name and namespace) in its options.
        rendered = _native.call_string("helm_render", chart._raw(), json.dumps(values),
                                       json.dumps(request.get("options", {})))
        return {"templates": json.loads(rendered)}
    except Exception as exc:
        return {"error": {"where": "render", "message": _message(exc)}}
    finally:
        chart.close()


def _limit_memory(limit: int) -> None:
    """Cap the child's data segment (Go's heap is private writable memory, which the
    kernel counts against RLIMIT_DATA; the address space it only reserves is not)."""
    try:
        import resource
    except ImportError:  # not on this system: the time limit still holds
        return
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ValueError, OSError):
        pass


def _die_with_parent() -> None:
    """End with the process that started this one (a pool worker stopped mid-render),
    not run on with nobody to read the render: Linux's parent-death signal."""
    import os
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ImportError):
        return  # not Linux: the parent's time limit and stdin's end still stop it
    parent = sys.argv[4] if len(sys.argv) > 4 else ""
    if parent.isdigit() and os.getppid() != int(parent):  # it ended before the signal was asked for
        os._exit(0)


def main() -> None:
    _die_with_parent()
    # The most memory a render may take (the third argument): a chart that doubles a
    # string forty times must end this child, not exhaust the machine.
    if len(sys.argv) > 3 and sys.argv[3].isdigit():
        _limit_memory(int(sys.argv[3]))
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            reply = _handle(json.loads(line))
        except Exception as exc:  # a request this child cannot read: say so, keep serving
            reply = {"error": {"where": "engine", "message": _message(exc)}}
        data = json.dumps(reply).encode("utf-8", "surrogatepass")
        out.write(b"%010d\n" % len(data))
        out.write(data)
        out.flush()
    _remove_own_folder()


def _remove_own_folder() -> None:
    """The temporary folder the parent made for this child (its working folder, named by
    the second argument): removed here too, for a parent that ended without cleaning up
    (a pool worker is stopped, not shut down)."""
    import os
    import shutil

    folder = sys.argv[2] if len(sys.argv) > 2 else ""
    name = os.path.basename(folder.rstrip("/"))
    if name.startswith("k8slint-helm-child-") and os.path.realpath(os.getcwd()) == os.path.realpath(folder):
        os.chdir("/")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
