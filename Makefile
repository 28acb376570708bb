# Local entry points. The work is done by the scripts in infra/ (see infra/README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
ARGS ?=

.PHONY: help setup up down status run test lint bench clean-stack

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: ## install what is missing: apt packages, .venv, Kafka jars, frontend build
	bash infra/stack.sh setup

up: ## setup, then start Kafka and PostgreSQL/PostGIS and wait until healthy
	bash infra/stack.sh up

down: ## stop app processes (supervisord), Kafka and PostgreSQL (data is kept)
	bash infra/stack.sh down

status: ## show what runs (each app process too); fails if Kafka or PostgreSQL is down
	bash infra/stack.sh status

run: ## the whole product on http://127.0.0.1:8000 under supervisord (Ctrl-C stops the apps)
	bash infra/run.sh

test: ## stack up, lint, pytest (make test ARGS='-k foo')
	bash infra/test.sh $(ARGS)

lint: ## ruff, mypy, import contracts
	bash infra/lint.sh

bench: ## stack up, then the benchmarks
	bash infra/stack.sh up
	.venv/bin/python -m tests.bench

clean-stack: ## stop everything and delete .stack data (keeps downloaded jars)
	bash infra/stack.sh clean
