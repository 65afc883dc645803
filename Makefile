# Scratchpad's front door. `make` alone lists the targets.
SHELL := bash
.DEFAULT_GOAL := help
export GOTOOLCHAIN := local

GO_PKGS := ./...
BENCH_PKGS ?= ./...

.PHONY: help run build test test-short generate verify lint bench bench-sync bench-scale bench-grid fmt tools

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}'

# A development server answers this machine only: on a fresh .data/ the first
# account to sign up becomes admin. LISTEN_ADDR=0.0.0.0 make run opens it up.
run: export LISTEN_ADDR ?= localhost
run: ## Run the app on http://localhost:3010, for this machine only (starts a private PostgreSQL under .data/ when DATABASE_URL is unset)
	go run ./cmd/scratchpad serve

build: ## Build the scratchpad binary into bin/
	go build -o bin/scratchpad ./cmd/scratchpad

test: ## Run the whole suite against real PostgreSQL (TEST_DATABASE_URL, else a private cluster) and Chromium
	go run ./cmd/withpg -- go test -race -count=1 -timeout 20m $(GO_PKGS)

test-short: ## Run the suite without browser tests
	go run ./cmd/withpg -- go test -short -count=1 $(GO_PKGS)

generate: ## Regenerate templ views and sqlc queries
	go tool templ generate -path views
	go tool sqlc generate

fmt: ## Format Go and templ files
	gofmt -w $$(git ls-files '*.go')
	go tool templ fmt views

verify: generate ## Fail when generated code or formatting is not committed as-is
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@git diff --exit-code --stat -- views internal/db || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- views internal/db)" || { echo "untracked generated files:"; git status --porcelain -- views internal/db; exit 1; }
	go vet ./...
	go mod verify >/dev/null

lint: ## Static checks: go vet and gofmt
	go vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

bench: ## Run the Go benchmarks, one package at a time (figures in README; SCRATCHPAD_BENCH_RECORDS=100000 for a smaller grid table)
	go run ./cmd/withpg -- go test -p 1 -run '^$$' -bench . -benchmem -benchtime 3x -timeout 120m $(BENCH_PKGS)

bench-sync: ## Run the pull, re-pull and publish benchmarks once, against their COPY and UPDATE baselines (BENCH_PULL_ROWS, BENCH_PUBLISH_ROWS)
	go run ./cmd/withpg -- go test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/syncs/

bench-scale: export BENCH_SCALE_TABLES ?= 200
bench-scale: ## K big tables in one database against one alone: grid p95, planning, first query, index build (BENCH_SCALE_TABLES=200, BENCH_SCALE_RECORDS=5000)
	go run ./cmd/withpg -- go test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 60m ./internal/workbooks/

bench-grid: ## Measure the grid in Chromium: HTML weight vs JSON, first paint, scrolling a big table, fill, first page after an import (SCRATCHPAD_BENCH_RECORDS, BENCH_IMPORT_ROWS)
	go run ./cmd/withpg -- go test -run 'TestGridHTMLWeight' -v -count=1 ./handlers/
	go run ./cmd/withpg -- go test -run '^$$' -bench 'GridFirstPaint' -benchtime 10x -timeout 30m ./handlers/
	go run ./cmd/withpg -- go test -p 1 -run '^$$' -bench 'GridScroll|GridFill|GridAfterImport' -benchtime 1x -timeout 90m ./handlers/
