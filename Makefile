# The commands the README names. `make run` and `make test` install what they
# need themselves; everything they build is cached under .cache/ by version.
include versions.env
SHELL := /bin/bash
ROOT := $(CURDIR)
CACHE := $(ROOT)/.cache
VENV := $(CACHE)/venv
export PATH := $(VENV)/bin:$(CACHE)/bin:$(PATH)
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export TF_CLI_CONFIG_FILE := $(CACHE)/terraformrc
# The local cluster's binaries (scripts/build-go.sh envtest), keyed by version.
export MLOPS_ENVTEST_BIN := $(CACHE)/envtest/v$(KUBERNETES_VERSION)-etcd$(ETCD_VERSION)
export MLOPS_CONTROLPLANE_DIR := $(CACHE)/controlplane
PYTEST := $(VENV)/bin/python -m pytest

.PHONY: help deps test-deps run test kubespray envtest-up envtest-down \
        test-lint test-sanity test-unit test-terraform test-molecule test-integration test-contract \
        test-fuzz test-rehearsal test-cloud

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

deps: ## runtime toolchain: venv with the package and the `ansible` collections
	@scripts/deps.sh

test-deps: ## what the tests need (venv dev tools, podman image, Go-built tools, MLflow); `make test` builds the controllers beside the first tiers
	@scripts/deps.sh dev
	@scripts/build-go.sh envtest provider helm terraform schedcheck amtool
	@scripts/test-deps.sh
	@scripts/kubespray.sh fixture

run: ## the main job on the local rehearsal target
	@scripts/local-deps.sh
	@scripts/run.sh

test: test-deps ## every test tier, with a summary
	@scripts/test.sh $(TIERS)

kubespray: deps ## install the pinned Kubespray collection (needs GitHub; the tests install it from the fixture)
	@scripts/kubespray.sh

envtest-up: ## start the local cluster (control plane, controllers, KWOK nodes, ArgoCD, MLflow)
	@scripts/local-deps.sh
	@$(VENV)/bin/python -m mlops_platform.controlplane up

envtest-down: ## stop every process of the local cluster
	@$(VENV)/bin/python -m mlops_platform.controlplane down

test-lint:
	ansible-lint --profile production
	yamllint --strict .
	ruff check .
	scripts/tf fmt -check -recursive -diff terraform

test-sanity:
	scripts/sanity.sh

# The reference application's tests run in its own environment (scripts/test-deps.sh app).
test-unit:
	$(PYTEST) tests/unit
	cd apps/digits && $(CACHE)/app-digits/bin/python -m pytest tests

test-terraform:
	scripts/terraform-test.sh

test-molecule:
	scripts/molecule.sh

# The slowest tests are listed at the end, to keep the tier's time in view.
test-integration:
	$(PYTEST) --durations=25 tests/integration

test-rehearsal:
	scripts/rehearsal-test.sh

test-contract:
	$(PYTEST) tests/contract

test-fuzz:
	$(PYTEST) -s tests/fuzz

test-cloud:
	scripts/cloud-test.sh
