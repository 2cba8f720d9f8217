"""python -m mlops_platform.localcloud up|down|status (see the package docstring)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from mlops_platform.localcloud import LocalCloud, LocalCloudError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_platform.localcloud")
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--state-dir", default=os.environ.get("MLOPS_LOCALCLOUD_DIR", ".cache/localcloud"))
    parser.add_argument("--venv", default=os.environ.get("MLOPS_OPENSTACK_VENV", ".cache/openstack"))
    args = parser.parse_args(argv)
    cloud = LocalCloud(args.state_dir, args.venv)
    try:
        if args.action == "up":
            started = time.monotonic()
            path = cloud.up()
            print(
                f"local OpenStack ready in {time.monotonic() - started:.1f}s "
                f"({cloud.rss_mib():.0f} MiB in {len(cloud._all_pids())} processes; {cloud.timings})",
                file=sys.stderr,
            )
            print(path)
        elif args.action == "down":
            cloud.down()
        else:
            ready = cloud.is_ready()
            print("ready" if ready else "not running")
            return 0 if ready else 1
    except LocalCloudError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
