"""Run the service: load exactly the model version given, then answer until SIGTERM.

Environment (the model-service chart sets them): MODEL_NAME, MODEL_VERSION, MODEL_DIR
(default /opt/model: the version the image was built with), MLFLOW_TRACKING_URI (used
only when MODEL_DIR holds no model: the version is then fetched into /tmp), PORT
(default 8000), GRACE_SECONDS (default 20: how long in-flight requests may take after
SIGTERM). /health answers 503 while the model loads; a model that cannot be loaded
ends the process with exit code 1 and one line saying why.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import uvicorn

from . import model_store
from .service import create_app

log = logging.getLogger("mlops_digits")


def load_model():
    name, version = os.environ.get("MODEL_NAME"), os.environ.get("MODEL_VERSION")
    directory = Path(os.environ.get("MODEL_DIR", "/opt/model"))
    if (directory / model_store.REGISTERED_FILE).is_file():
        return model_store.load(directory, name, version)
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not (uri and name and version):
        raise model_store.ModelError(
            f"{directory} holds no model; fetching one needs MLFLOW_TRACKING_URI, MODEL_NAME, MODEL_VERSION"
        )
    target = Path(tempfile.mkdtemp(prefix="model-")) / "model"
    model_store.fetch(uri, name, version, target)
    return model_store.load(target, name, version)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app()
    config = uvicorn.Config(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 - a container's port; the Service fronts it
        port=int(os.environ.get("PORT", "8000")),
        timeout_graceful_shutdown=int(os.environ.get("GRACE_SECONDS", "20")),
        access_log=False,
        log_config=None,
        loop="uvloop",
        http="httptools",
    )
    server = uvicorn.Server(config)
    failure: list[str] = []

    def load() -> None:
        try:
            model = load_model()
        except (model_store.ModelError, OSError, ValueError) as e:
            failure.append(str(e))
            log.error("cannot serve: %s", e)
            server.should_exit = True
            return
        app.state.serve(model)
        log.info("serving %s version %s (run %s)", model.name, model.version, model.run_id)

    threading.Thread(target=load, name="load-model", daemon=True).start()
    # uvicorn drains the requests in flight on SIGTERM/SIGINT, then raises the signal again
    # with the handlers it found: these make that a clean exit (0), the shutdown being done.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server.run()
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
