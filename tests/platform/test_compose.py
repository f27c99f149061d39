"""docker-compose.yml: the app gets a MinIO user of its own, scoped to the records
bucket's object actions, never MinIO's root credentials; docs/operations.md documents the
same policy for AWS."""

import json
import re
import subprocess
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")


def _config() -> dict:
    # The file as compose resolves it (anchors merged), with a throwaway .env.
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": "/tmp",
        "MINIO_ROOT_USER": "root-user",
        "MINIO_ROOT_PASSWORD": "root-password-123",
        "MINIO_APP_SECRET_KEY": "app-secret-456",
    }
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def _policy(text: str) -> dict:
    return json.loads(re.search(r"<<'POLICY'\n(.*?)\nPOLICY", text, re.S).group(1))


def test_the_app_never_holds_minios_root_credentials():
    services = _config()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["AWS_ACCESS_KEY_ID"] == "secondop-app", name
        assert env["AWS_SECRET_ACCESS_KEY"] == "app-secret-456", name
        assert "root-password-123" not in json.dumps(env), name
        assert "root-user" not in json.dumps(env), name


def test_minio_init_makes_the_apps_user_with_a_policy_scoped_to_the_bucket():
    init = _config()["services"]["minio-init"]
    script = init["command"][0]
    assert "mc admin user add local" in script
    assert "mc admin policy attach local secondop-app --user" in script
    policy = _policy(script)
    actions = {a for statement in policy["Statement"] for a in statement["Action"]}
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert not any("*" in action for action in actions)
    assert not any(a.startswith(("admin:", "s3:PutBucket", "s3:DeleteBucket")) for a in actions)
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} <= actions
    assert resources == {"arn:aws:s3:::secondop-records", "arn:aws:s3:::secondop-records/*"}


def test_the_operations_doc_gives_the_same_policy_for_aws():
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    doc = (BASE_DIR / "docs" / "operations.md").read_text()
    in_compose = json.loads(re.search(r"<<'POLICY'\n(.*?)\n\s*POLICY", compose, re.S).group(1))
    in_doc = json.loads(re.search(r"```json\n(.*?)\n```", doc, re.S).group(1))
    assert in_doc == in_compose
