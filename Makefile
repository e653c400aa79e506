# dasprov — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
DASPROV := .build/debug/dasprov

.PHONY: setup build demo test unit integration bench fuzz clean sandbox-down

setup:            ## install missing Debian packages (as root) and build
	@scripts/setup.sh

build: setup

demo: setup       ## 8 sandbox hosts, first apply, then a re-run that changes nothing
	@scripts/demo.sh

test: setup       ## every test: unit, sandbox, integration against real sshd hosts
	@scripts/test.sh

unit: setup
	@scripts/test.sh --unit-only

bench: setup      ## benchmarks against OpenSSH, Ansible and pyinfra; prints a table
	@bench/run.sh

fuzz: setup       ## long fuzzing runs of the INI reader, DSL parser and templates
	@bench/fuzz/run.sh --long

sandbox-down:     ## stop the demo sandbox
	@bash sandbox/sandbox.sh down

clean:
	rm -rf .build
