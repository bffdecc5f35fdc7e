"""The deployment others copy: compose.yaml valid against the Compose schema, its topology, the image."""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "compose-spec" / "compose-spec.json"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_yaml_is_valid_against_the_compose_specification() -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert [error.message for error in validator.iter_errors(_compose())] == []


def test_the_schema_check_catches_a_broken_file() -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    broken = _compose()
    broken["services"]["app"]["deploy"]["replicas"] = [3]
    broken["services"]["proxy"]["restart_policy"] = "always"
    assert sorted(error.message for error in validator.iter_errors(broken)) == [
        "'restart_policy' does not match any of the regexes: '^x-'",
        "[3] is not of type 'integer', 'string'",
    ]


def test_the_topology_postgres_minio_migration_three_apps_and_a_tls_proxy() -> None:
    compose = _compose()
    services = compose["services"]
    assert sorted(services) == ["app", "bucket", "db", "migrate", "minio", "proxy"]
    assert services["db"]["image"] == "postgres:15"
    assert services["minio"]["image"].startswith("minio/minio:RELEASE.")
    assert services["migrate"]["command"] == ["tracker", "migrate"]
    assert services["migrate"]["restart"] == "no"
    app = services["app"]
    assert app["deploy"]["replicas"] == 3
    assert app["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "ports" not in app  # reachable only through the proxy
    env = app["environment"]
    assert env["TRACKER_STORAGE_URL"].startswith("s3://")
    assert env["TRACKER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert int(env["TRACKER_WORKERS"]) >= 2
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert "443:443" in proxy["ports"]
    # The app believes X-Forwarded-Proto only from the proxy's fixed address, inside the network's subnet.
    proxy_ip = proxy["networks"]["backend"]["ipv4_address"]
    assert env["TRACKER_TRUSTED_PROXIES"] == proxy_ip == "172.28.0.10"
    assert compose["networks"]["backend"]["ipam"]["config"] == [{"subnet": "172.28.0.0/24"}]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert re.search(r"dynamic a \{\s+name app\s+port 8000", caddyfile)
    directives = [line.split("#")[0] for line in caddyfile.splitlines()]
    assert [d for d in directives if "trusted_proxies" in d] == []  # Caddy overwrites client-sent X-Forwarded-*


def test_the_image_is_two_stages_from_a_hash_pinned_lock_and_runs_as_non_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?$", dockerfile, flags=re.MULTILINE)
    assert stages == [("python:3.11-slim", "build"), ("python:3.11-slim", "")]
    assert "pip install --require-hashes --no-deps -r requirements.txt" in dockerfile
    assert "COPY --from=build /opt/venv /opt/venv" in dockerfile
    assert re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE) == ["tracker"]
    lock = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    pinned = {
        m.group(1).lower().replace("_", "-"): m.group(2)
        # A pin may carry an environment marker (uvloop: not on Windows).
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)(?: ;[^\\\n]*)? \\$", lock, flags=re.MULTILINE)
    }
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {re.split(r"[\[<>=~!; ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in wanted}
    assert sorted(names - set(pinned)) == []
    # Every pinned package carries at least one hash, so pip --require-hashes accepts the file.
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", lock, flags=re.MULTILINE)[1:]
    assert len(blocks) == len(pinned)
    assert [b.split("==")[0] for b in blocks if "--hash=sha256:" not in b] == []
