# Every target works from a fresh clone: `venv` creates .venv and installs the project.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# The stack's images (docker backend). The default base is built from Debian packages, so
# no image registry is needed; `make images BASE_IMAGE=python:3.11-slim` uses the public one.
BASE_IMAGE ?= gamedrill-base:bookworm
SHOP_IMAGE ?= gamedrill-shop:latest
# Exactly what the image holds: the shop services and the stdlib-only proxy of the harness.
IMAGE_FILES := compose/Dockerfile compose/shop harness/__init__.py $(wildcard harness/proxy)

.PHONY: venv test lint demo clean images

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# The image is labelled with the digest of its sources: the docker backend refuses a stale one.
images:
	case "$(BASE_IMAGE)" in gamedrill-base:*) compose/build-base-image.sh "$(BASE_IMAGE)";; esac
	tar -c --exclude=__pycache__ $(IMAGE_FILES) \
	  | docker build --network none -f compose/Dockerfile --build-arg BASE_IMAGE="$(BASE_IMAGE)" \
	    --build-arg SOURCE_DIGEST="$$($(PYTHON) harness/stack/image_source.py)" -t "$(SHOP_IMAGE)" -

demo: venv
	$(BIN)/gamedrill run drills/demo.yaml --autopilot

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
