"""The deployment files stay in step with the app (deploy/); the proxy itself runs in
tests/e2e/test_proxy.py."""

from __future__ import annotations

import subprocess

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def _lines(path):
    return [ln.split("#")[0].strip() for ln in path.read_text().splitlines() if ln.split("#")[0].strip()]  # fmt: skip


def test_the_image_lock_pins_every_package_and_satisfies_requirements_txt():
    pins = {}
    for line in _lines(DEPLOY / "requirements.lock"):
        name, _, version = line.partition("==")
        assert version, f"not pinned: {line}"
        pins[canonicalize_name(name)] = Version(version)
    for line in _lines(ROOT / "requirements.txt"):
        req = Requirement(line)
        pinned = pins.get(canonicalize_name(req.name))
        assert pinned is not None, f"{req.name} is missing from deploy/requirements.lock"
        # torch's CPU build is 2.13.0+cpu: compare without the local label
        assert req.specifier.contains(Version(pinned.public), prereleases=True), (req, pinned)


def test_serve_sh_parses_and_refuses_bad_options_before_starting_anything():
    assert subprocess.run(["bash", "-n", str(DEPLOY / "serve.sh")]).returncode == 0
    for args, message in [
        (["--workers", "two"], "--workers must be a number"),
        (["--workers", "0"], "needs at least one --upstream"),
        (["--port", "x"], "--port must be a number"),
        (["--frobnicate"], "unknown option"),
        (["--warm", "cnn;rm -rf /"], "--warm must be all, none or a comma list"),
    ]:
        r = subprocess.run(
            ["bash", str(DEPLOY / "serve.sh"), *args], capture_output=True, text=True, timeout=30
        )
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)


def test_the_nginx_template_has_the_fields_serve_sh_fills():
    template = (DEPLOY / "nginx.conf.template").read_text()
    script = (DEPLOY / "serve.sh").read_text()
    for field in ("@RUN_DIR@", "@LISTEN@", "@ROUTING@"):
        assert field in template and field in script
    assert template.count("@ROUTING@") == 1  # awk replaces the whole line it is on
    # sticky by cookie, websockets upgraded, long reads
    for directive in (
        "proxy_pass http://$backend",
        "stroute=$new_route",
        "proxy_set_header Upgrade",
        "proxy_read_timeout",
    ):
        assert directive in template
    # the routing serve.sh writes: least connections for its workers, a hash for replicas
    for directive in ("least_conn", "hash \\$route consistent", "map \\$cookie_stroute \\$backend"):
        assert directive in script, directive


def test_compose_and_dockerfile_use_the_serve_script_and_the_lock():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    compose = (DEPLOY / "compose.yaml").read_text()
    assert 'ENTRYPOINT ["bash", "deploy/serve.sh"]' in dockerfile
    assert "deploy/requirements.lock" in dockerfile
    assert "dockerfile: deploy/Dockerfile" in compose
    assert '"--upstream", "app:8501"' in compose
