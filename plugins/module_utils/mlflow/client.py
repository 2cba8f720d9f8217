# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""A small client for MLflow's model-registry REST API (2.0 endpoints).

Only what the platform needs: read a model version, read / set / delete a
registered-model alias, create models and versions (used by tests and by the
training workflow's callers). Every failure becomes an MlflowError whose message
names the tracking server URL, the model and what to check.
"""

from __future__ import annotations

import json
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from ansible.module_utils.urls import open_url
from ansible_collections.mlops.platform.plugins.module_utils.errors import PlatformError


class MlflowError(PlatformError):
    """An MLflow REST call failed. `code` is MLflow's error_code when it sent one."""

    def __init__(self, message: str, status: int = 0, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


class MlflowClient:
    """One tracking server. Methods raise MlflowError; nothing is retried silently."""

    def __init__(
        self,
        tracking_uri: str,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        validate_certs: bool = True,
    ):
        if not tracking_uri or not tracking_uri.startswith(("http://", "https://")):
            raise MlflowError(f"MLflow tracking URI {tracking_uri!r} is not an http(s) URL")
        self.url = tracking_uri.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._validate_certs = validate_certs

    # -- transport -----------------------------------------------------------------
    def _call(
        self, method: str, endpoint: str, *, query: dict | None = None, body: dict | None = None, what: str
    ) -> dict:
        url = f"{self.url}/api/2.0/mlflow/{endpoint}"
        if query:
            url += "?" + urlencode(query)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            resp = open_url(
                url,
                method=method,
                data=data,
                headers=headers,
                timeout=self._timeout,
                validate_certs=self._validate_certs,
            )
            raw = resp.read()
        except HTTPError as e:
            raw = e.read() if hasattr(e, "read") else b""
            try:
                err = json.loads(raw or b"{}")
            except ValueError:
                err = {}
            code = err.get("error_code", "") if isinstance(err, dict) else ""
            msg = (err.get("message", "") if isinstance(err, dict) else "") or e.reason
            hint = ""
            if e.code in (401, 403):
                hint = " Check the MLflow token (mlflow_token) and its permissions."
            raise MlflowError(
                f"MLflow at {self.url}: {what} failed: HTTP {e.code} {code}: {msg}.{hint}",
                status=e.code,
                code=code,
            ) from e
        except (TimeoutError, URLError, ConnectionError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise MlflowError(
                f"MLflow at {self.url} cannot be reached while trying to {what}: {reason}. "
                "Check that the tracking server is up and the URL (mlflow_tracking_uri) is right."
            ) from e
        try:
            return json.loads(raw or b"{}")
        except ValueError as e:
            raise MlflowError(
                f"MLflow at {self.url}: {what}: the answer is not JSON; is this an MLflow tracking server?"
            ) from e

    # -- registry ------------------------------------------------------------------
    def get_registered_model(self, name: str) -> dict:
        return self._call(
            "GET", "registered-models/get", query={"name": name}, what=f"read registered model {name!r}"
        )["registered_model"]

    def create_registered_model(self, name: str) -> dict:
        return self._call(
            "POST", "registered-models/create", body={"name": name}, what=f"create registered model {name!r}"
        )["registered_model"]

    def create_model_version(self, name: str, source: str, run_id: str | None = None) -> dict:
        body = {"name": name, "source": source}
        if run_id:
            body["run_id"] = run_id
        return self._call(
            "POST", "model-versions/create", body=body, what=f"create a version of model {name!r}"
        )["model_version"]

    def get_model_version(self, name: str, version: str) -> dict:
        try:
            return self._call(
                "GET",
                "model-versions/get",
                query={"name": name, "version": str(version)},
                what=f"read version {version} of model {name!r}",
            )["model_version"]
        except MlflowError as e:
            if e.code == "RESOURCE_DOES_NOT_EXIST" or e.status == 404:
                raise MlflowError(
                    f"MLflow at {self.url} has no version {version} of registered model {name!r}: "
                    "register it first (the train-model workflow does) or check model_name and version",
                    status=e.status,
                    code=e.code,
                ) from e
            raise

    def get_alias(self, name: str, alias: str) -> str | None:
        """The version the alias points to, or None when the alias is not set.

        Read from the registered model (one call, which also tells a missing model
        apart: the alias endpoint answers 400 for an unset alias and 404 for no model).
        """
        model = self.get_registered_model_or_fail(name)
        for entry in model.get("aliases") or []:
            if entry.get("alias") == alias:
                return str(entry.get("version"))
        return None

    def get_registered_model_or_fail(self, name: str) -> dict:
        try:
            return self.get_registered_model(name)
        except MlflowError as e:
            if e.code == "RESOURCE_DOES_NOT_EXIST" or e.status == 404:
                raise MlflowError(
                    f"MLflow at {self.url} has no registered model {name!r}: check model_name",
                    status=e.status,
                    code=e.code,
                ) from e
            raise

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._call(
            "POST",
            "registered-models/alias",
            body={"name": name, "alias": alias, "version": str(version)},
            what=f"set alias {alias!r} of model {name!r} to version {version}",
        )

    def delete_alias(self, name: str, alias: str) -> None:
        self._call(
            "DELETE",
            "registered-models/alias",
            body={"name": name, "alias": alias},
            what=f"delete alias {alias!r} of model {name!r}",
        )
