# dasprov — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
DASPROV := .build/debug/dasprov

.PHONY: setup build demo test unit integration bench fuzz clean sandbox-down programs goldens lint

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

programs:         ## re-embed Sources/DasprovShell/Programs/*.sh after editing them
	@scripts/embed-programs.sh

goldens: programs ## rewrite the golden files of the rendered remote programs (review the diff)
	@swift build --build-tests >/dev/null && DASPROV_UPDATE_GOLDENS=1 swift test --skip-build --filter GoldenProgramTests >/dev/null && git status --short Tests/DasprovEngineTests/Golden

lint:             ## shellcheck the remote programs and their rendered goldens
	@scripts/lint-shell.sh

sandbox-down:     ## stop the demo sandbox
	@bash sandbox/sandbox.sh down

clean:
	rm -rf .build
