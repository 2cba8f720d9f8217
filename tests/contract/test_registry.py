"""The platform's container registry (app registry) as the platform role declares it, and the
nodes' containerd as Kubespray configures it from the same config.

The registry Application renders from the fixture docker-registry chart (test_platform.py dry-runs
it and checks its Service, Secret, image and AppProject references with every other app). Here:
its blobs go to the object store's bucket (MinIO's bucket job makes it; shipped) or the external
endpoint (options), never to a redirect the nodes cannot follow; it is served at
https://registry.<domain> through Traefik, whose read timeout lets a large layer in; the htpasswd
file its init container writes from the users' bcrypt hashes (Secrets the platform role made)
verifies the generated password, and the real distribution registry (.cache/bin/registry) run
with the rendered config accepts it and refuses anyone else. The nodes: Kubespray's own
hosts.toml template (the pinned release), fed our group_vars, points containerd at the host the
platform serves, with the pull user's Basic credential and, without a domain, the platform CA.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import tarfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from . import references as refs
from .conftest import FLOATING_IP, OPENSTACK_CONFIG, OPTIONS, ROOT, count
from .image_policy import load_policy, registry_hosts
from .render import fixture_chart, helm_template
from .test_backups import check_bucket, check_endpoint, secret_data, settings
from .test_pins import test_chart_pin_is_the_fixture as chart_pin_is_the_fixture
from .test_pins import versions_env
from .test_placement import _schedcheck
from .test_placement import cluster as cluster  # noqa: PLC0414 - a fixture, used by name

pytestmark = pytest.mark.controlplane

RUNS = ["shipped", "options"]
KUBESPRAY_VARS = ROOT / "inventory/openstack/group_vars/k8s_cluster/kubespray.yml"
ROLE = ROOT / "roles/platform"
#: A pull password as an operator's vault would give it (the shipped config leaves it out).
PULL_PASSWORD = "contract-pull-password-0123456789"


def objects(rendered, kind: str):
    return [o for o in rendered.of_kind(kind) if o.app == "registry"]


def deployment(rendered):
    found = objects(rendered, "Deployment")
    assert len(found) == 1, [o.ref for o in found]
    return found[0]


def main_container(dep) -> dict:
    return next(
        c for c in dep.body["spec"]["template"]["spec"]["containers"] if c["name"] == "docker-registry"
    )


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env") or []}


def registry_config(rendered) -> dict:
    cms = [o for o in objects(rendered, "ConfigMap") if "config.yml" in (o.body.get("data") or {})]
    assert len(cms) == 1, [o.ref for o in cms]
    return yaml.safe_load(cms[0].body["data"]["config.yml"])


def mounts(container: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in container.get("volumeMounts") or []}


# -- pins --------------------------------------------------------------------------------------


def test_registry_chart_pin_is_the_fixture(shared_fixtures):
    chart_pin_is_the_fixture("REGISTRY_CHART_VERSION", "docker-registry", shared_fixtures)


def test_registry_image_pin_is_the_charts_image_at_least_its_default(shared_fixtures):
    """REGISTRY_IMAGE is the chart's own image repository, fully qualified, at the chart's default
    tag or a newer patch of its line (the newest distribution release, which the tests build and
    run: scripts/build-go.sh registry takes its version from this tag)."""
    env = versions_env()
    chart = fixture_chart(shared_fixtures / "charts", "docker-registry", env["REGISTRY_CHART_VERSION"])
    with tarfile.open(chart) as tar:
        image = yaml.safe_load(tar.extractfile("docker-registry/values.yaml"))["image"]
    registry, repo, default = refs.normalise(f"{image['repository']}:{image['tag']}")
    pinned = refs.normalise(env["REGISTRY_IMAGE"])
    assert pinned[:2] == (registry, repo), f"versions.env REGISTRY_IMAGE={env['REGISTRY_IMAGE']} -> {repo}"

    def numbers(tag: str) -> tuple[int, ...]:
        return tuple(int(n) for n in tag.split("."))

    assert numbers(pinned[2])[0] == numbers(default)[0] and numbers(pinned[2]) >= numbers(default), (
        f"versions.env REGISTRY_IMAGE={env['REGISTRY_IMAGE']} -> {chart.name} defaults to {default}"
    )
    defaults = (ROLE / "defaults/main.yml").read_text()
    assert "__platform_versions.registry_chart_version" in defaults
    assert "__platform_versions.registry_image" in defaults
    count("pins checked against fixtures", 2)


# -- the Application and its storage -------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS)
def test_the_registry_is_a_platform_app_after_its_object_store(platform, projects, run):
    app = platform[run].app("registry")
    assert app["spec"]["project"] == "platform"
    assert app["spec"]["destination"]["namespace"] == settings(run)["platform_namespace"]
    wave = int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    waves = {
        a["metadata"]["name"]: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for a in platform[run].applications
    }
    # Its bucket (MinIO's post-install job) and its certificate (cert-manager, Traefik) come first.
    before = {"minio", "cert-manager", "traefik"} & set(waves)
    assert before and all(waves[n] < wave for n in before), f"registry wave {wave}; {waves}"


@pytest.mark.parametrize("run", RUNS)
def test_the_registry_stores_its_blobs_in_the_object_stores_bucket(platform, run):
    s = settings(run)
    dep = deployment(platform[run])
    env = env_of(main_container(dep))
    where = f"{dep.ref} env"
    assert env["REGISTRY_STORAGE_S3_BUCKET"]["value"] == s["platform_registry_bucket"]
    check_bucket(platform, run, s["platform_registry_bucket"], where)
    check_endpoint(platform, run, env["REGISTRY_STORAGE_S3_REGIONENDPOINT"]["value"], where)
    secure = env["REGISTRY_STORAGE_S3_SECURE"]["value"]
    assert secure == str(run == "options").lower(), f"{where} REGISTRY_STORAGE_S3_SECURE {secure}"
    # The keys come from the object store's Secret (whose keys test_platform checks exist).
    keys = {
        env[k]["valueFrom"]["secretKeyRef"]["name"]
        for k in ("REGISTRY_STORAGE_S3_ACCESSKEY", "REGISTRY_STORAGE_S3_SECRETKEY")
    }
    assert keys == {"minio-credentials" if run == "shipped" else "object-store-credentials"}, keys
    # Nothing on a volume; blobs served by the registry itself (a redirect would send the nodes to
    # the object store's in-cluster endpoint).
    assert "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY" not in env
    assert not objects(platform[run], "PersistentVolumeClaim")
    config = registry_config(platform[run])
    assert config["storage"]["redirect"] == {"disable": True}, config["storage"]
    count(f"registry storage references checked ({run})", 5)


# -- authentication ------------------------------------------------------------------------------


def hash_volumes(rendered) -> dict[str, tuple[str, str]]:
    """Mount path in the init container -> (Secret, key) of each user's hash it reads."""
    spec = deployment(rendered).body["spec"]["template"]["spec"]
    init = next(c for c in spec.get("initContainers") or [] if c["name"] == "htpasswd")
    volumes = {v["name"]: v for v in spec["volumes"]}
    out = {}
    for path, m in mounts(init).items():
        sec = volumes[m["name"]].get("secret")
        if sec:
            (item,) = sec["items"]
            out[path] = (sec["secretName"], item["key"])
    return out


@pytest.mark.parametrize("run", RUNS)
def test_the_registry_reads_the_htpasswd_its_init_container_writes(platform, run):
    s = settings(run)
    rendered = platform[run]
    spec = deployment(rendered).body["spec"]["template"]["spec"]
    config = registry_config(rendered)
    path = config["auth"]["htpasswd"]["path"]
    init = next(c for c in spec["initContainers"] if c["name"] == "htpasswd")
    main = main_container(deployment(rendered))
    directory = str(Path(path).parent)
    assert path in init["command"][-1], f"the init container writes elsewhere than {path}"
    assert mounts(init)[directory]["name"] == mounts(main)[directory]["name"], "not the same volume"
    assert mounts(main)[directory].get("readOnly") is True
    volume = next(v for v in spec["volumes"] if v["name"] == mounts(main)[directory]["name"])
    assert volume.get("emptyDir", {}).get("medium") == "Memory", volume
    # The chart's own htpasswd (a hash in the Application's values) is not used.
    assert not (rendered.app("registry")["spec"]["source"]["helm"]["valuesObject"]["secrets"].get("htpasswd"))
    hashes = hash_volumes(rendered)
    assert set(hashes.values()) == {("registry-push-hash", s["platform_registry_push_user"])}, hashes
    for secret, key in hashes.values():
        keys = rendered.secrets.get((s["platform_namespace"], secret))
        assert keys is not None and key in keys, (
            f"Secret {secret} (the platform role's) has keys {keys}, not {key}"
        )
    assert init["image"] == main["image"], "the init container runs another image than the registry"
    count(f"registry auth references checked ({run})", 6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_htpasswd(script: str, root: Path, hashes: dict[str, dict[str, bytes]]) -> Path:
    """Run the init container's own script with /hashes/<kind>/<user> files under `root`."""
    for kind, users in hashes.items():
        for user, value in users.items():
            (root / "hashes" / kind).mkdir(parents=True, exist_ok=True)
            (root / "hashes" / kind / user).write_bytes(value)
    (root / "auth").mkdir(exist_ok=True)
    local = script.replace("/auth/", f"{root}/auth/").replace("/hashes/", f"{root}/hashes/")
    subprocess.run(["/bin/sh", "-ec", local], check=True, timeout=30)  # noqa: S603
    return root / "auth" / "htpasswd"


@contextlib.contextmanager
def running_registry(config: dict, htpasswd: Path, root: Path, http_secret: str):
    """The real distribution registry with the rendered config: its storage on a local directory
    (the S3 settings are the Deployment's environment, left out here), auth as rendered."""
    binary = ROOT / ".cache/bin/registry"
    if not binary.exists():
        pytest.fail(
            f"{binary} is missing: scripts/build-go.sh registry builds it (versions.env REGISTRY_IMAGE's tag)"
        )
    port = free_port()
    config = {
        **config,
        "storage": {**config["storage"], "filesystem": {"rootdirectory": str(root / "data")}},
        "http": {
            **config["http"],
            "addr": f"127.0.0.1:{port}",
            "debug": {"addr": f"127.0.0.1:{free_port()}"},
        },
        "auth": {"htpasswd": {**config["auth"]["htpasswd"], "path": str(htpasswd)}},
    }
    path = root / "config.yml"
    path.write_text(yaml.safe_dump(config))
    env = {"PATH": os.environ["PATH"], "REGISTRY_HTTP_SECRET": http_secret, "OTEL_TRACES_EXPORTER": "none"}
    proc = subprocess.Popen(
        [str(binary), "serve", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )  # noqa: S603
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def status(url: str, user: str | None = None, password: str | None = None) -> int:
    req = urllib.request.Request(url)  # noqa: S310 - loopback
    if user is not None:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_the_generated_push_password_opens_the_rendered_registry(platform, kube, tmp_path):
    """The chain end to end: the push password (Secret registry-push-credentials) -> its bcrypt hash
    (registry-push-hash, by the platform role) -> the htpasswd file the init container's script
    writes -> the real registry with the rendered config: 200 for the push user, 401 otherwise."""
    import bcrypt

    s = settings("shipped")
    ns, user = s["platform_namespace"], s["platform_registry_push_user"]
    creds = secret_data(kube, ns, "registry-push-credentials")
    assert base64.b64decode(creds["username"]).decode() == user
    password = base64.b64decode(creds["password"]).decode()
    stored = base64.b64decode(secret_data(kube, ns, "registry-push-hash")[user])
    rendered = platform["shipped"]
    init = next(
        c
        for c in deployment(rendered).body["spec"]["template"]["spec"]["initContainers"]
        if c["name"] == "htpasswd"
    )
    htpasswd = write_htpasswd(init["command"][-1], tmp_path, {"push": {user: stored}})
    lines = htpasswd.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [user], lines
    assert bcrypt.checkpw(password.encode(), lines[0].split(":", 1)[1].encode()), "the hash does not verify"
    assert oct(htpasswd.stat().st_mode & 0o777) == "0o600"
    secret = next(o for o in objects(rendered, "Secret") if o.name == "registry-secret")
    http_secret = base64.b64decode(secret.body["data"]["haSharedSecret"]).decode()
    with running_registry(registry_config(rendered), htpasswd, tmp_path, http_secret) as url:
        assert status(f"{url}/v2/") == 401
        assert status(f"{url}/v2/", user, password) == 200
        assert status(f"{url}/v2/", user, password + "x") == 401
        assert status(f"{url}/v2/_catalog", "node", password) == 401
    count("registry logins tried against the real registry", 4)


# -- the pull user (the operator's password): the role's values template, as the role renders it ---


def role_variables(overrides: dict) -> dict:
    """The platform role's defaults and vars, the OpenStack config and `overrides`, as Ansible sees them."""
    variables = {}
    for path in (ROLE / "defaults/main.yml", ROLE / "vars/main.yml"):
        variables.update(yaml.safe_load(path.read_text()))
    config = yaml.safe_load(OPENSTACK_CONFIG.read_text())
    variables.update({k: v for k, v in config.items() if not str(v).startswith("{{ lookup")})
    variables.update({"role_path": str(ROLE), "mlops_floating_ip": FLOATING_IP, **overrides})
    return variables


def template(text: str, variables: dict, *, data: bool = False):
    """Ansible's templating: of a whole file (as the template lookup does), or of an expression
    whose result is data (data=True, as a variable's value is)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    templar = Templar(loader=DataLoader(), variables=variables)
    if data:
        return templar.template(text)
    return templar.template(
        text, preserve_trailing_newlines=True, convert_data=False, escape_backslashes=False
    )


def role_values(app: str, overrides: dict) -> dict:
    text = (ROLE / f"templates/values/{app}.yml.j2").read_text()
    return yaml.safe_load(template(text, role_variables(overrides)))


def test_this_templating_is_the_roles(platform):
    """role_values gives what the role declared for the shipped run (so the pull-user tests below
    see the role's own output)."""
    declared = platform["shipped"].app("registry")["spec"]["source"]["helm"]["valuesObject"]
    assert role_values("registry", {}) == declared


@pytest.fixture(scope="module")
def with_pull_user(helm, shared_fixtures, kube_version) -> list[dict]:
    values = role_values("registry", {"platform_registry_pull_password": PULL_PASSWORD})
    chart = fixture_chart(
        shared_fixtures / "charts", "docker-registry", versions_env()["REGISTRY_CHART_VERSION"]
    )
    return helm_template(helm, chart, "registry", "platform", values, kube_version, [])


def test_a_pull_password_adds_the_nodes_user_from_its_own_hash_secret(with_pull_user, tmp_path):
    import bcrypt

    from .render import Obj, Rendered

    rendered = Rendered(applications=[], objects=[Obj("registry", d, "platform") for d in with_pull_user])
    s = settings("shipped")
    hashes = hash_volumes(rendered)
    assert sorted(hashes.values()) == sorted(
        [
            ("registry-pull-hash", s["platform_registry_pull_user"]),
            ("registry-push-hash", s["platform_registry_push_user"]),
        ]
    ), hashes
    assert PULL_PASSWORD not in yaml.safe_dump_all(with_pull_user), (
        "the pull password is in the rendered objects"
    )
    # Both users' lines, from the script as rendered, each verifying its own password.
    users = {
        "push": {s["platform_registry_push_user"]: "push-password"},
        "pull": {s["platform_registry_pull_user"]: PULL_PASSWORD},
    }
    stored = {
        k: {u: bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)) for u, p in v.items()} for k, v in users.items()
    }
    init = next(
        c
        for c in deployment(rendered).body["spec"]["template"]["spec"]["initContainers"]
        if c["name"] == "htpasswd"
    )
    lines = dict(
        line.split(":", 1)
        for line in write_htpasswd(init["command"][-1], tmp_path, stored).read_text().splitlines()
    )
    for kind, pairs in users.items():
        for user, password in pairs.items():
            assert bcrypt.checkpw(password.encode(), lines[user].encode()), f"{kind} user {user}"
    count("registry users checked with a pull password", 2)


# -- TLS and Traefik --------------------------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS)
def test_the_registry_is_served_at_its_host_with_a_certificate(platform, run):
    rendered = platform[run]
    domain = OPTIONS["platform_ingress_domain"] if run == "options" else f"{FLOATING_IP}.sslip.io"
    assert registry_hosts(rendered) == [f"registry.{domain}"]
    (ing,) = objects(rendered, "Ingress")
    ann = ing.body["metadata"]["annotations"]
    assert ann["cert-manager.io/cluster-issuer"] == ("platform-acme" if run == "options" else "platform-ca")
    assert ann["traefik.ingress.kubernetes.io/router.tls"] == "true"
    assert ing.body["spec"]["tls"] == [{"secretName": "registry-tls", "hosts": [f"registry.{domain}"]}]
    # A layer push is one request: Traefik's read timeout is the config's, not v3's 60s.
    args = [
        a
        for o in rendered.of_kind("Deployment")
        if o.app == "traefik"
        for c in o.body["spec"]["template"]["spec"]["containers"]
        for a in c.get("args") or []
    ]
    timeout = settings(run)["platform_registry_upload_timeout"]
    assert f"--entryPoints.websecure.transport.respondingTimeouts.readTimeout={timeout}" in args, (
        f"Traefik's args set no read timeout {timeout} on websecure"
    )
    count(f"registry route checks ({run})", 4)


def test_the_registry_runs_on_the_data_volume_node(platform, cluster):
    """Beside Traefik and MinIO: a layer crosses no other node on its way in or out."""
    nodes, data_host, _storage, _config = cluster
    shape = next(s for s in refs.pods(platform["shipped"]) if s.app == "registry")
    verdict = _schedcheck(
        nodes, [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": shape.ref}, "spec": shape.spec}]
    )
    fits = {node for node, why in verdict[shape.ref].items() if not why}
    assert fits == {data_host}, verdict[shape.ref]


def test_no_registry_credential_in_the_stages_output_or_the_applications(stages, platform, kube):
    """Neither the push password nor any user's hash in what the stages printed or declared."""
    ns = settings("shipped")["platform_namespace"]
    user = settings("shipped")["platform_registry_push_user"]
    values = []
    for name, key in [("registry-push-credentials", "password"), ("registry-push-hash", user)]:
        encoded = secret_data(kube, ns, name)[key]
        values += [encoded, base64.b64decode(encoded).decode()]
    declared = yaml.safe_dump([a for r in platform.values() for a in r.applications])
    leaked = [i for i, v in enumerate(values) if v in stages["output"] or v in declared]
    assert not leaked, f"{len(leaked)} registry secret value(s) in the stages' output or the Applications"
    assert "$2b$" not in declared and "$2y$" not in declared, "a bcrypt hash in an Application"
    count("secret values looked for in the output", len(values))


# -- the image policy ------------------------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS)
def test_the_policy_allows_the_platforms_images_on_its_registry_only(platform, run):
    host = registry_hosts(platform[run])[0]
    policy = load_policy(host)
    from .render import Obj, Rendered

    images = {
        "built": f"{host}/mlops/model-service:1",
        "elsewhere": f"{host}/other/thing:1",
        "another-host": "registry.example.com/mlops/model-service:1",
        "unpinned": f"{host}/mlops/model-service",
    }
    pods = [
        Obj(
            "check",
            {
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        )
        for name, image in images.items()
    ]
    problems, n = refs.check_images(Rendered(applications=[], objects=pods), policy)
    assert n == len(images)
    refused = sorted(p.a.removeprefix("Pod ").split(" ")[0] for p in problems)
    assert refused == ["another-host", "elsewhere", "unpinned"], problems


# -- the nodes: Kubespray's containerd settings ---------------------------------------------------


def kubespray_file(shared_fixtures: Path, path: str) -> str:
    """A file of the pinned Kubespray release (its tarball in the fixtures)."""
    version = versions_env()["KUBESPRAY_VERSION"]
    tarball = shared_fixtures / "src" / f"kubespray-v{version}.tar.gz"
    with tarfile.open(tarball) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(path))
        return tar.extractfile(member).read().decode()


def containerd_hosts(shared_fixtures: Path, run: str, pull_password: str) -> dict[str, dict]:
    """prefix -> hosts.toml, as Kubespray writes them on a node from our group_vars."""
    config = yaml.safe_load(OPENSTACK_CONFIG.read_text())
    variables = {
        **yaml.safe_load(KUBESPRAY_VARS.read_text()),
        **{k: v for k, v in config.items() if not str(v).startswith("{{ lookup")},
        "mlops_floating_ip": FLOATING_IP,
        **(OPTIONS if run == "options" else {}),
    }
    if pull_password:
        variables["platform_registry_pull_password"] = pull_password
    entries = template("{{ containerd_registries_mirrors }}", variables, data=True)
    hosts = kubespray_file(shared_fixtures, "roles/container-engine/containerd/templates/hosts.toml.j2")
    return {e["prefix"]: tomllib.loads(template(hosts, {**variables, "item": e})) for e in entries}


@pytest.mark.parametrize("pull", ["pull-password", "no-pull-password"])
@pytest.mark.parametrize("run", RUNS)
def test_containerd_pulls_from_the_host_the_platform_serves(platform, shared_fixtures, run, pull):
    host = registry_hosts(platform[run])[0]
    password = PULL_PASSWORD if pull == "pull-password" else ""
    toml = containerd_hosts(shared_fixtures, run, password)
    assert host in toml, f"containerd's hosts.toml are for {sorted(toml)}, the platform serves {host}"
    entry = toml[host]
    assert entry["server"] == f"https://{host}"
    (mirror,) = entry["host"].values()
    assert entry["host"].keys() == {f"https://{host}"}
    assert mirror["capabilities"] == ["pull", "resolve"] and mirror["skip_verify"] is False
    header = (mirror.get("header") or {}).get("Authorization")
    if password:
        user = yaml.safe_load(OPENSTACK_CONFIG.read_text())["platform_registry_pull_user"]
        (value,) = header
        assert base64.b64decode(value.removeprefix("Basic ")).decode() == f"{user}:{password}"
    else:
        assert header is None, "a credential without a pull password"
    if run == "options":
        assert "ca" not in mirror, "ACME's certificate needs no CA of ours"
    else:
        assert mirror["ca"] == [f"/etc/containerd/certs.d/{host}/platform-ca.crt"], mirror
    count("containerd hosts.toml checks", 5)


def test_containerd_2_takes_registry_credentials_from_hosts_toml_only(shared_fixtures):
    """Why the credential is a hosts.toml header: Kubespray's containerd_registry_auth is written
    only into containerd 1.x's config, and the pinned Kubespray installs containerd 2."""
    v2 = kubespray_file(shared_fixtures, "roles/container-engine/containerd/templates/config.toml.j2")
    v1 = kubespray_file(shared_fixtures, "roles/container-engine/containerd/templates/config-v1.toml.j2")
    assert "containerd_registry_auth" in v1 and "containerd_registry_auth" not in v2
    assert 'config_path = "{{ containerd_cfg_dir }}/certs.d"' in v2
    checksums = kubespray_file(shared_fixtures, "roles/kubespray_defaults/vars/main/checksums.yml")
    amd64 = yaml.safe_load(checksums)["containerd_archive_checksums"]["amd64"]
    default = str(next(iter(amd64)))  # Kubespray's containerd_version: the first key
    assert default.startswith("2."), f"Kubespray's default containerd is {default}"
    assert "containerd_registry_auth" not in yaml.safe_load(KUBESPRAY_VARS.read_text())
