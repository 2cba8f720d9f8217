"""The stages of the platform and how a playbook event maps to its stage."""

from __future__ import annotations

#: Every stage of site.yml, in order; each is also playbooks/<stage>.yml.
STAGES: tuple[str, ...] = (
    "infra",
    "nodes",
    "cluster",
    "kubeconfig",
    "gitops",
    "platform",
    "workflows",
    "environments",
)

#: Stages that need a cloud; the local rehearsal target skips them.
CLOUD_STAGES: frozenset[str] = frozenset({"infra", "nodes", "cluster"})


def stage_of_play(play_name: str | None, default: str | None) -> str | None:
    """The stage a play belongs to: its name starts with the stage ("GitOps stage: ...").

    Other plays count under `default` (the runner passes the stage of the play before,
    so a helper play inside a stage's playbook stays with its stage).
    """
    word = (play_name or "").strip().split(" ", 1)[0].rstrip(":,.-").lower()
    return word if word in STAGES else default


def select_stages(stages: list[str] | tuple[str, ...] | None) -> list[str]:
    """Validate stage names and return them in site.yml order (all when None/empty)."""
    from .errors import MlopsError

    if not stages:
        return list(STAGES)
    wanted = [s.strip().lower() for s in stages]
    unknown = sorted({s if s else repr(s) for s in wanted} - set(STAGES))
    if unknown:
        raise MlopsError(f"unknown stage(s) {', '.join(unknown)}: choose from {', '.join(STAGES)}")
    return [s for s in STAGES if s in wanted]
