# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""A cloud at the HTTP layer: recorded OpenStack responses served with requests-mock.

No OpenStack cloud can be reached here, so this is the one boundary that is mocked:
openstacksdk and keystoneauth run their real code (auth, catalog, version discovery,
find by ID then by name, quota parsing) against these responses.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

FIXTURES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "terraform" / "openstack"
PROJECT = "0123456789abcdef0123456789abcdef"
KEYSTONE = "https://keystone.example.test:5000/v3"

CLOUDS_YAML = f"""clouds:
  mlops:
    auth_type: v3applicationcredential
    auth:
      auth_url: {KEYSTONE}
      application_credential_id: abc
      application_credential_secret: not-a-real-secret
    region_name: RegionOne
    identity_api_version: 3
"""


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class FakeCloud:
    """Resource lists and quotas of one project; tests edit them to create each failure."""

    def __init__(self) -> None:
        self.data = {
            n: load(n)
            for n in (
                "images",
                "flavors",
                "networks",
                "keypairs",
                "floatingips",
                "volumes",
                "servers",
                "security_groups",
                "security_group_rules",
                "limits",
                "network_quota_details",
                "volume_quota_set",
            )
        }
        self.reject_credentials = False
        self.requests: list[str] = []

    # -- requests-mock plumbing --------------------------------------------------------
    def install(self, mocker) -> None:
        mocker.post(f"{KEYSTONE}/auth/tokens", json=self._token)
        mocker.register_uri(
            "GET",
            re.compile(r"https://[a-z]+\.example\.test/.*|https://[a-z]+\.example\.test$"),
            json=self._get,
        )

    def _token(self, request, context):
        if self.reject_credentials:
            context.status_code = 401
            return load("token_401")
        context.status_code = 201
        context.headers["X-Subject-Token"] = "gAAAAAfake"
        return load("token")

    @staticmethod
    def _not_found(context, what):
        context.status_code = 404
        return {"itemNotFound": {"code": 404, "message": f"{what} could not be found."}}

    def _list(self, key, query, item_key=None, filters=()):
        items = copy.deepcopy(self.data[key][key])
        for f in filters:
            if f in query:
                items = [i for i in items if str((i.get(item_key) or i).get(f)) == query[f]]
        return {key: items}

    def _get(self, request, context):
        url = urlparse(request.url)
        host = url.netloc.split(".")[0]
        path = unquote(url.path).rstrip("/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(f"GET {request.url}")
        routes = {
            "nova": [
                (r"/v2\.1", lambda m: load("versions_compute")),
                (r"/v2\.1/flavors/detail", lambda m: copy.deepcopy(self.data["flavors"])),
                (r"/v2\.1/os-keypairs", lambda m: copy.deepcopy(self.data["keypairs"])),
                (r"/v2\.1/servers/detail", lambda m: copy.deepcopy(self.data["servers"])),
                (r"/v2\.1/limits", lambda m: copy.deepcopy(self.data["limits"])),
                (r"/v2\.1/flavors/(.+)", lambda m: self._one("flavors", "flavor", m.group(1), ("id",))),
                (r"/v2\.1/os-keypairs/(.+)", lambda m: self._keypair(m.group(1))),
            ],
            "glance": [
                (r"", lambda m: load("versions_image")),
                (r"/v2/images", lambda m: self._list("images", query, filters=("name",))),
                (r"/v2/images/(.+)", lambda m: self._one("images", None, m.group(1), ("id",))),
            ],
            "neutron": [
                (r"/v2\.0/networks", lambda m: self._list("networks", query, filters=("name",))),
                (r"/v2\.0/networks/(.+)", lambda m: self._one("networks", "network", m.group(1), ("id",))),
                (
                    r"/v2\.0/floatingips",
                    lambda m: self._list("floatingips", query, filters=("floating_ip_address",)),
                ),
                (
                    r"/v2\.0/security-groups",
                    lambda m: self._list("security_groups", query, filters=("name",)),
                ),
                (
                    r"/v2\.0/security-group-rules",
                    lambda m: self._list(
                        "security_group_rules", query, filters=("security_group_id", "direction")
                    ),
                ),
                (
                    rf"/v2\.0/quotas/{PROJECT}/details",
                    lambda m: copy.deepcopy(self.data["network_quota_details"]),
                ),
            ],
            "cinder": [
                (r"|/v3", lambda m: load("versions_block_storage")),
                (rf"/v3/{PROJECT}", lambda m: load("versions_block_storage")),
                (rf"/v3/{PROJECT}/volumes/detail", lambda m: self._list("volumes", query, filters=("name",))),
                (
                    rf"/v3/{PROJECT}/volumes/(.+)",
                    lambda m: self._one("volumes", "volume", m.group(1), ("id",)),
                ),
                (
                    rf"/v3/{PROJECT}/os-quota-sets/{PROJECT}",
                    lambda m: copy.deepcopy(self.data["volume_quota_set"]),
                ),
            ],
        }
        for pattern, handler in routes.get(host, []):
            m = re.fullmatch(pattern, path)
            if m:
                body = handler(m)
                if body is None:
                    return self._not_found(context, path)
                return body
        return self._not_found(context, request.url)

    def _one(self, key, wrap, ident, fields):
        for item in self.data[key][key]:
            if any(str(item.get(f)) == ident for f in fields):
                return {wrap: copy.deepcopy(item)} if wrap else copy.deepcopy(item)
        return None

    def _keypair(self, name):
        for item in self.data["keypairs"]["keypairs"]:
            if item["keypair"]["name"] == name:
                return copy.deepcopy(item)
        return None
