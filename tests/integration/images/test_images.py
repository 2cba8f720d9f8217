"""The application's images, built for real and run for real (issues 22/23).

scripts/images.sh builds the Debian base (debootstrap rootfs, FROM scratch), then apps/digits'
serve and train targets FROM it, with BuildKit (buildkitd as root, OCI worker on runc), and
pushes them to a distribution registry on 127.0.0.1 with TLS and htpasswd auth. The tests then
pull what was pushed (anonymous: refused; authenticated: the digest the build printed), rebuild
from BuildKit's cache (same digests), try to move a tag (refused), train a model in the train
image, bake it into a serve image and run that with runc: read-only root, uid 10001, a tmpfs
/tmp, the host's network namespace so that it listens on a 127.0.0.1 port.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import requests
from images_support import ROOT, Container
from workflow_templates import load, run_step

from mlops_platform.procs import free_port

pytestmark = pytest.mark.images

SCRIPT = ROOT / "scripts/images.sh"
APP = ROOT / "apps/digits"
LOGS = ROOT / ".cache/images/logs"
VERSION = tomllib.loads((APP / "pyproject.toml").read_text())["project"]["version"]
MODEL = {"name": "digits", "version": "7", "run_id": "image-test"}

# Run in the train image (no network): fit the application's pipeline on the shipped digits, save
# it as the training step does (mlflow.sklearn's directory + training_stats.json), add the
# registered.json mlops-digits-fetch would write, and keep held-out rows to ask the service about.
TRAIN = """
import json, sys
from pathlib import Path
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from mlops_digits import data, train
from mlops_digits.drift import TrainingStats

X, y = data.load(None)
X_train, X_test, y_train, y_test = data.split(X, y, train.SPLIT_SEED)
model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(X_train, y_train)
out = Path(sys.argv[1])
train.save_model(model, X_test[:5], TrainingStats.from_data(X_train), out / "model")
(out / "model" / "registered.json").write_text(sys.argv[2])
(out / "held_out.json").write_text(json.dumps({"X": X_test[:40].tolist(), "y": y_test[:40].tolist()}))
print(json.dumps({"accuracy": model.score(X_test, y_test)}))
"""


def images_sh(
    registry, buildkitd, report: Path, *args: str, timeout: float = 3600
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "REGISTRY_USER": registry.user,
        "REGISTRY_PASSWORD": registry.password,
        "REGISTRY_CA": str(registry.ca),
        "BUILDKIT_HOST": buildkitd.address,
    }
    return subprocess.run(  # noqa: S603 - our own script
        [str(SCRIPT), "--report", str(report), *args, registry.address],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def built(report: Path) -> dict[str, dict]:
    return {entry["image"]: entry for entry in map(json.loads, report.read_text().splitlines())}


def repository(entry: dict, registry) -> str:
    return entry["ref"].removeprefix(registry.address + "/").split(":", 1)[0]


def tag(entry: dict) -> str:
    return entry["ref"].rsplit(":", 2)[1].split("@")[0]


@pytest.fixture(scope="module")
def first_build(registry, buildkitd, tmp_path_factory):
    report = tmp_path_factory.mktemp("first-build") / "report.jsonl"
    done = images_sh(registry, buildkitd, report)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return built(report), done.stdout


@pytest.fixture(scope="module")
def trained(registry, first_build, tmp_path_factory):
    """A model version trained in the train image that was pushed (pulled back from the registry)."""
    work = tmp_path_factory.mktemp("train")
    train = first_build[0]["train"]
    config = registry.pull(repository(train, registry), train["digest"], work / "rootfs")
    out = work / "out"
    out.mkdir()
    os.chown(out, 10001, 10001)
    container = Container(f"mlops-train-{os.getpid()}", work, work / "rootfs", config, state=work / "runc")
    container.bind(out, "/out", readonly=False)
    code = container.run(args=["python", "-c", TRAIN, "/out", json.dumps(MODEL)])
    assert code == 0, container.log.read_text()[-3000:]
    accuracy = json.loads(container.log.read_text().strip().splitlines()[-1])["accuracy"]
    return out / "model", json.loads((out / "held_out.json").read_text()), accuracy


@pytest.fixture(scope="module")
def model_context(trained, tmp_path_factory):
    """apps/digits with the trained version in model/, as build-container-image lays it out."""
    context = tmp_path_factory.mktemp("context") / "digits"
    shutil.copytree(
        APP, context, ignore=shutil.ignore_patterns("tests", "*.egg-info", "__pycache__", "model")
    )
    shutil.copytree(trained[0], context / "model")
    return context


def test_build_prints_each_image_with_digest_and_size(first_build, registry):
    images, output = first_build
    assert sorted(images) == ["base", "serve", "train"]
    for name, entry in images.items():
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", entry["digest"])
        assert entry["ref"].startswith(f"{registry.address}/mlops/") and entry["ref"].endswith(
            "@" + entry["digest"]
        )
        assert tag(entry).endswith("-" + entry["digest"][7:19]), f"{name}: the tag carries its digest"
        assert 0 < entry["compressed"] < entry["unpacked"]
        assert f"{entry['ref'].split('@')[0]}\n    {entry['digest']}" in output
    assert tag(images["base"]).startswith("trixie-")
    assert tag(images["serve"]).startswith(f"{VERSION}-") and tag(images["train"]).startswith(f"{VERSION}-")
    # The applications are FROM the base: its layer is their first.
    base_layer = registry.manifest("mlops/python-base", images["base"]["digest"]).json()["layers"][0][
        "digest"
    ]
    for name in ("serve", "train"):
        layers = registry.manifest(repository(images[name], registry), images[name]["digest"]).json()[
            "layers"
        ]
        assert layers[0]["digest"] == base_layer, name
    print("\n" + output)


def test_registry_refuses_an_anonymous_pull(first_build, registry):
    serve = first_build[0]["serve"]
    response = registry.manifest(repository(serve, registry), tag(serve), auth=False)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(registry.url(""), verify=str(registry.ca), timeout=10).status_code == 401


def test_an_authenticated_pull_gets_what_the_build_printed(first_build, registry):
    for name, entry in first_build[0].items():
        response = registry.manifest(repository(entry, registry), tag(entry))
        assert response.status_code == 200, (name, response.text)
        assert response.headers["Docker-Content-Digest"] == entry["digest"]
        manifest = response.json()
        assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert sum(layer["size"] for layer in manifest["layers"]) == entry["compressed"]
    serve = first_build[0]["serve"]
    manifest = registry.manifest(repository(serve, registry), serve["digest"]).json()
    config = registry.get(f"{repository(serve, registry)}/blobs/{manifest['config']['digest']}").json()[
        "config"
    ]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["mlops-digits-serve"]
    assert "MODEL_DIR=/opt/model" in config["Env"]
    assert next(e for e in config["Env"] if e.startswith("PATH=")).startswith("PATH=/opt/venv/bin:")


def test_a_second_build_comes_from_the_cache_with_the_same_digests(
    first_build, registry, buildkitd, tmp_path
):
    report = tmp_path / "report.jsonl"
    done = images_sh(registry, buildkitd, report)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    again = built(report)
    for name, entry in first_build[0].items():
        assert again[name]["digest"] == entry["digest"], name
        assert f"{entry['ref'].split('@')[0]} already names {entry['digest']}" in done.stdout
    for name in ("serve", "train"):  # pip did not run again
        steps = re.findall(
            r"^#\d+ \[venv \d/\d\] RUN .*?\n#\d+ (\w+)", (LOGS / f"{name}.log").read_text(), re.M
        )
        assert steps == ["CACHED", "CACHED"], f"{name}: {steps}"
    print("\n" + "\n".join(f"{name}: {entry['seconds']} s" for name, entry in again.items()))


def test_a_tag_never_moves_to_other_content(first_build, registry, buildkitd, model_context, tmp_path):
    serve = first_build[0]["serve"]
    taken = tag(serve)
    done = images_sh(
        registry,
        buildkitd,
        tmp_path / "report.jsonl",
        "--images",
        "serve",
        "--context",
        str(model_context),
        "--tag",
        taken,
    )
    assert done.returncode != 0
    assert (
        f"refusing to move tag {registry.address}/mlops/digits-serve:{taken} from {serve['digest']}"
        in done.stderr
    )
    current = registry.manifest(repository(serve, registry), taken)
    assert current.headers["Docker-Content-Digest"] == serve["digest"]


@pytest.fixture(scope="module")
def model_image(registry, buildkitd, model_context, tmp_path_factory):
    report = tmp_path_factory.mktemp("model-build") / "report.jsonl"
    done = images_sh(
        registry,
        buildkitd,
        report,
        "--images",
        "serve",
        "--context",
        str(model_context),
        "--tag",
        f"{VERSION}-model{MODEL['version']}",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return built(report)["serve"]


def start_serve(registry, entry: dict, work: Path, **env) -> tuple[Container, int]:
    config = registry.pull(repository(entry, registry), entry["digest"], work / "rootfs")
    container = Container(
        f"mlops-serve-{os.getpid()}-{work.name}", work, work / "rootfs", config, state=work / "runc"
    )
    container.host_network()
    port = free_port()
    container.start(env={"HOST": "127.0.0.1", "PORT": str(port), **env})
    return container, port


def test_the_serve_image_serves_the_model_baked_into_it(registry, model_image, trained, tmp_path):
    _model, held_out, accuracy = trained
    assert accuracy > 0.9
    container, port = start_serve(registry, model_image, tmp_path, MODEL_NAME="digits", MODEL_VERSION="7")
    url = f"http://127.0.0.1:{port}"
    try:
        first, deadline = None, time.monotonic() + 120
        while first is None:
            assert container.status() == "running", container.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"/health never answered: {container.log.read_text()[-3000:]}"
            try:
                first = requests.get(f"{url}/health", timeout=5).status_code
            except requests.ConnectionError:
                time.sleep(0.2)
        assert first in (503, 200)
        while (health := requests.get(f"{url}/health", timeout=5)).status_code == 503:
            assert time.monotonic() < deadline, container.log.read_text()[-3000:]
            time.sleep(0.2)
        assert health.status_code == 200, health.text
        assert health.json() == {"status": "ready", "model": "digits", "version": "7"}

        response = requests.post(f"{url}/predict", json={"instances": held_out["X"]}, timeout=30)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["model"] == {"name": "digits", "version": "7"}
        right = sum(p == y for p, y in zip(answer["predictions"], held_out["y"], strict=True))
        assert right >= 36, f"{right}/40 right"
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        assert 'model_info{name="digits",version="7"} 1.0' in metrics

        # As the chart runs it: uid 10001, read-only root filesystem.
        pid = json.loads(container.runc("state", container.id, capture_output=True, text=True).stdout)["pid"]
        status = Path(f"/proc/{pid}/status").read_text()
        assert re.search(r"^Uid:\s+10001\s", status, re.M), status
        root = next(
            line.split()
            for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
            if line.split()[4] == "/"
        )
        assert "ro" in root[5].split(","), root
    finally:
        container.stop()
    assert container.status() == "gone"


def test_the_serve_image_without_a_model_says_why_and_exits(first_build, registry, tmp_path):
    serve = first_build[0]["serve"]
    config = registry.pull(repository(serve, registry), serve["digest"], tmp_path / "rootfs")
    container = Container(
        f"mlops-serve-{os.getpid()}-empty", tmp_path, tmp_path / "rootfs", config, state=tmp_path / "runc"
    )
    container.host_network()
    code = container.run(env={"HOST": "127.0.0.1", "PORT": str(free_port())}, timeout=120)
    log = container.log.read_text()
    assert code == 1, log
    assert (
        "/opt/model holds no model; fetching one needs MLFLOW_TRACKING_URI, MODEL_NAME, MODEL_VERSION" in log
    )


def test_the_build_puts_the_mlflow_version_it_names_into_the_image(
    first_build, registry, buildkitd, mlflow_server, tmp_path
):
    """build-container-image's way: the build is given MODEL_NAME/MODEL_VERSION and MLflow's address,
    and fetches exactly that version into the serve image (a version training registered), tagged
    with the version; then the workflow's registry step, run for real, finds that tag and records
    the image's digest on the MLflow version."""
    app_python = ROOT / ".cache" / "app-digits" / "bin" / "python"
    model, prefix = f"digits-{os.getpid()}", f"mlops/t{os.getpid()}"
    trained = subprocess.run(
        [
            str(app_python),
            "-m",
            "mlops_digits.train",
            "--tracking-uri",
            mlflow_server.url,
            "--model-name",
            model,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    report = tmp_path / "report.jsonl"
    env = {
        **os.environ,
        "REGISTRY_USER": registry.user,
        "REGISTRY_PASSWORD": registry.password,
        "REGISTRY_CA": str(registry.ca),
        "BUILDKIT_HOST": buildkitd.address,
        "MLFLOW_TRACKING_URI": mlflow_server.url,
    }
    done = subprocess.run(  # noqa: S603 - our own script
        [
            str(SCRIPT),
            "--report",
            str(report),
            "--images",
            "serve",
            "--prefix",
            prefix,
            "--model",
            f"{model}=1",
            "--tag",
            "1",
            registry.address,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    serve = built(report)["serve"]
    assert serve["digest"] != first_build[0]["serve"]["digest"]
    registry.pull(repository(serve, registry), serve["digest"], tmp_path / "rootfs")
    registered = json.loads((tmp_path / "rootfs" / "opt" / "model" / "registered.json").read_text())
    assert (registered["name"], registered["version"]) == (model, "1")
    assert (tmp_path / "rootfs" / "opt" / "model" / "model.pkl").is_file()

    # The registry step: the registry's docker config and CA outside /tmp (the step's /tmp is its own).
    given = ROOT / ".cache" / "tmp" / f"registry-step-{os.getpid()}"
    given.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode()
    (given / "config.json").write_text(json.dumps({"auths": {registry.address: {"auth": auth}}}))
    shutil.copy(registry.ca, given / "ca.crt")
    params = {
        "image": f"{registry.address}/{prefix}/digits-serve",
        "model-name": model,
        "mlflow-url": mlflow_server.url,
        "tools-image": "-",
        "registry-secret": "-",
    }
    step_env = {"DOCKER_CONFIG": str(given), "REGISTRY_CA_FILE": str(given / "ca.crt")}
    try:
        for mode in ("look-up", "record"):
            pod_tmp = tmp_path / mode
            pod_tmp.mkdir()
            proc = run_step(
                load("build-container-image"),
                "registry-image",
                params,
                {"model-version": "1", "mode": mode},
                tmp=pod_tmp,
                path=[ROOT / ".cache" / "venv" / "bin"],
                env=step_env,
            )
            assert proc.returncode == 0, proc.stderr
            assert (pod_tmp / "digest").read_text() == serve["digest"]
    finally:
        shutil.rmtree(given)
    version = requests.get(
        f"{mlflow_server.url}/api/2.0/mlflow/model-versions/get",
        params={"name": model, "version": "1"},
        timeout=30,
    ).json()["model_version"]
    tags = {t["key"]: t["value"] for t in version.get("tags", [])}
    assert tags["image.digest"] == serve["digest"]
    assert tags["image"] == f"{registry.address}/{prefix}/digits-serve:1@{serve['digest']}"


def test_the_tools_image_runs_the_collections_promote_playbook(registry, buildkitd, tmp_path):
    """The workflows' deploy step's image: ansible and this collection, as uid 10001 with a read-only
    root; the promote playbook parses there and refuses a request without a target, as on the
    controller (its run against ArgoCD: tests/integration/environments/test_workflow_steps.py)."""
    report = tmp_path / "report.jsonl"
    done = images_sh(registry, buildkitd, report, "--images", "tools")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tools = built(report)["tools"]
    config = registry.pull(repository(tools, registry), tools["digest"], tmp_path / "rootfs")
    container = Container(
        f"mlops-tools-{os.getpid()}", tmp_path, tmp_path / "rootfs", config, state=tmp_path / "runc"
    )
    check = (
        "ansible-playbook --syntax-check mlops.platform.promote && "
        "ansible-playbook -i localhost, -c local mlops.platform.promote -e mlops_kubeconfig=/tmp/kubeconfig"
    )
    code = container.run(args=["sh", "-c", check], timeout=300)
    log = container.log.read_text()
    assert "mlops/platform/playbooks/promote.yml" in log, log[-3000:]  # the syntax check's line
    assert code != 0 and "Say where to promote" in log, log[-3000:]
    sizes = f"{tools['compressed'] / 1e6:.1f} MB compressed, {tools['unpacked'] / 1e6:.1f} MB unpacked"
    print(f"\ntools image: {sizes}")
