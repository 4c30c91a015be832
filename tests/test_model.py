from __future__ import annotations

import pytest

from k8slint.model import image_ref


@pytest.mark.parametrize(
    "text, registry, repository, tag, digest, effective, pulls_latest",
    [
        ("nginx", None, "nginx", None, None, "latest", True),
        ("nginx:1.27", None, "nginx", "1.27", None, "1.27", False),
        ("nginx:latest", None, "nginx", "latest", None, "latest", True),
        ("registry.local:5000/app", "registry.local:5000", "app", None, None, "latest", True),
        ("registry.local:5000/team/app:2.1", "registry.local:5000", "team/app", "2.1", None, "2.1", False),
        ("localhost/app", "localhost", "app", None, None, "latest", True),
        ("quay.io/coreos/etcd:v3.5", "quay.io", "coreos/etcd", "v3.5", None, "v3.5", False),
        ("bitnami/etcd", None, "bitnami/etcd", None, None, "latest", True),
        ("img@sha256:abc", None, "img", None, "sha256:abc", None, False),
        ("img:latest@sha256:abc", None, "img", "latest", "sha256:abc", "latest", False),
        ("registry.local:5000/app@sha256:abc", "registry.local:5000", "app", None, "sha256:abc", None, False),
    ],
)
def test_image_ref(text, registry, repository, tag, digest, effective, pulls_latest):
    ref = image_ref(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert ref.effective_tag == effective
    assert ref.pulls_latest is pulls_latest


def test_basename_is_the_last_path_segment_without_tag():
    assert image_ref("registry.k8s.io/etcd:3.5.15-0").basename == "etcd"
    assert image_ref("example/etcd-backup:1").basename == "etcd-backup"
