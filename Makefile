# powerinput: `make run` shows what this machine draws; `make test` runs
# everything CI runs (unit, scenario, differential, end-to-end).
GO        ?= go
TELEGRAF_VERSION := v1.37.2
CACHE     ?= $(HOME)/.cache/powerinput
TELEGRAF  := $(CACHE)/telegraf-$(TELEGRAF_VERSION)/telegraf
TELEGRAF_TAGS := custom,inputs.execd,outputs.influxdb,outputs.file

.PHONY: build install run test unit e2e bench fuzz lint generate telegraf influxdb cost clean

# -buildvcs=auto: the commit goes into the binary (powerinput -version)
# when this is a git checkout, even where GOFLAGS turns it off. Go is
# always asked: its cache makes a build with nothing new take a second, and
# a commit with no change to the sources still changes -version.
build:
	$(GO) build -buildvcs=auto -o bin/powerinput ./cmd/powerinput

# The binary built by make build into $(DESTDIR)$(PREFIX)/bin (as root for
# /usr/local). It does not build: root's PATH may have no Go.
PREFIX ?= /usr/local
install:
	@test -x bin/powerinput || { echo "bin/powerinput is missing: run make build first (as yourself)"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/powerinput $(DESTDIR)$(PREFIX)/bin/powerinput

# The main job: which sources work here, then a few seconds' measurement in
# everyday terms.
run: build
	@./bin/powerinput -config sample.conf -doctor || echo "(-doctor exit $$?: 1 = only the estimate works here, 2 = nothing works)"
	@echo
	./bin/powerinput -config sample.conf -summary

test: unit e2e

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Telegraf itself, built once from the Go module proxy and cached.
telegraf: $(TELEGRAF)
$(TELEGRAF):
	mkdir -p $(dir $@)
	GOBIN=$(dir $@) $(GO) install -tags "$(TELEGRAF_TAGS)" github.com/influxdata/telegraf/cmd/telegraf@$(TELEGRAF_VERSION)

# InfluxDB 1.x from Debian, when missing.
influxdb:
	@(command -v influxd && command -v influx) >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb influxdb-client)

e2e: build telegraf influxdb
	$(GO) test -count=1 -tags e2e -timeout 8m ./e2e/ -telegraf=$(TELEGRAF) -powerinput=$(CURDIR)/bin/powerinput

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Whole-agent cost, side by side in one run (minutes; not part of make
# test): Telegraf idle, with its native cpu and net inputs, and with
# powerinput through execd (defaults; everything on), at each interval of
# COST_INTERVALS, COST_ROUNDS rounds of COST_ROUND, on this machine's /proc
# and cgroupfs loaded with 1,000 processes, 200 control groups (20 waking)
# and 10 VM groups (as root). docs/cost.md says how to read it. A Telegraf
# with those inputs and the discard output is built once and cached.
COST_ROUND ?= 20s
COST_ROUNDS ?= 5
COST_INTERVALS ?= 100ms,1s
COST_TELEGRAF := $(CACHE)/telegraf-$(TELEGRAF_VERSION)-cost2/telegraf
$(COST_TELEGRAF):
	mkdir -p $(dir $@)
	GOBIN=$(dir $@) $(GO) install -tags "custom,inputs.execd,inputs.cpu,inputs.mem,inputs.net,outputs.discard" github.com/influxdata/telegraf/cmd/telegraf@$(TELEGRAF_VERSION)

cost: build $(COST_TELEGRAF)
	$(GO) run ./tools/agentcost -telegraf $(COST_TELEGRAF) -powerinput $(CURDIR)/bin/powerinput -round $(COST_ROUND) -rounds $(COST_ROUNDS) -intervals $(COST_INTERVALS)

# A short run of every fuzz target (go test -fuzz takes one at a time).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The Chronograf dashboards, from chronograf/internal/dashboards.
generate:
	$(GO) generate ./chronograf

# staticcheck from the Go module proxy (not part of make test).
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

clean:
	rm -rf bin
