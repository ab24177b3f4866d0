# powerinput: `make run` shows what this machine draws; `make test` runs
# everything CI runs (unit, scenario, differential, end-to-end).
GO        ?= go
TELEGRAF_VERSION := v1.37.2
CACHE     ?= $(HOME)/.cache/powerinput
TELEGRAF  := $(CACHE)/telegraf-$(TELEGRAF_VERSION)/telegraf
TELEGRAF_TAGS := custom,inputs.execd,outputs.influxdb,outputs.file
VICTORIA_VERSION := v1.151.0
VICTORIA  := $(CACHE)/victoria-metrics-$(VICTORIA_VERSION)/victoria-metrics

.PHONY: greenbot-preview build install run test unit race e2e bench fuzz lint generate telegraf influxdb victoria-metrics mailpit dendrite cost clean

# -buildvcs=auto: the commit goes into the binary (powerinput -version)
# when this is a git checkout, even where GOFLAGS turns it off. Go is
# always asked: its cache makes a build with nothing new take a second, and
# a commit with no change to the sources still changes -version.
build:
	$(GO) build -buildvcs=auto -o bin/powerinput ./cmd/powerinput
	$(GO) build -buildvcs=auto -o bin/greenbot ./cmd/greenbot

# The binary built by make build into $(DESTDIR)$(PREFIX)/bin (as root for
# /usr/local), and docs/ into share/doc/powerinput, where the bot's unit
# files' Documentation= points. It does not build: root's PATH may have no Go.
PREFIX ?= /usr/local
install:
	@test -x bin/powerinput || { echo "bin/powerinput is missing: run make build first (as yourself)"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/powerinput
	install -m 0755 bin/powerinput $(DESTDIR)$(PREFIX)/bin/powerinput
	@if test -x bin/greenbot; then install -m 0755 bin/greenbot $(DESTDIR)$(PREFIX)/bin/greenbot; fi
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/powerinput/

# The main job: which sources work here, then a few seconds' measurement in
# everyday terms.
run: build
	@./bin/powerinput -config sample.conf -doctor || echo "(-doctor exit $$?: 1 = only the estimate works here, 2 = nothing works, 3 = wrong option or config)"
	@echo
	./bin/powerinput -config sample.conf -summary

test: unit race e2e

# The Green Campus Bot's digests for their latest periods, on stdout, from
# the InfluxDB its config names (GREENBOT_CONF).
GREENBOT_CONF ?= deploy/greenbot.toml
greenbot-preview: build
	./bin/greenbot -config $(GREENBOT_CONF) -preview

# The bot's delivery tests start a real Mailpit and Dendrite (found in the
# cache; a test whose server is missing skips, saying which target builds it).
unit: mailpit dendrite
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The race detector on the packages whose code runs in goroutines: the
# gather loop, the guards and every read that runs under one (sources,
# sensors, powercap's shared watcher, the collectors), the guests'
# counter writer. Over all of ./... it took 23 minutes on a shared
# 2-core machine; these packages take a few.
RACE_PKGS := ./internal/guard/... ./internal/guestcounter/... ./internal/powercap/... \
	./internal/sensors/... ./internal/source/... ./plugins/... ./cmd/...
race:
	$(GO) test -race -count=1 $(RACE_PKGS)

# Telegraf itself, built once from the Go module proxy and cached.
telegraf: $(TELEGRAF)
$(TELEGRAF):
	mkdir -p $(dir $@)
	GOBIN=$(dir $@) $(GO) install -tags "$(TELEGRAF_TAGS)" github.com/influxdata/telegraf/cmd/telegraf@$(TELEGRAF_VERSION)

# Servers for the Green Campus Bot's tests, built once from the Go module
# proxy and cached like Telegraf. Cold, on 2 shared cores under load:
# Mailpit about 12 min, Dendrite about 23 min (both built at once); with
# nothing else running and a warm module cache, a few minutes each.
MAILPIT_VERSION  := v1.27.11
DENDRITE_VERSION := v0.13.8
MAILPIT  := $(CACHE)/mailpit-$(MAILPIT_VERSION)/mailpit
DENDRITE := $(CACHE)/dendrite-$(DENDRITE_VERSION)/dendrite
mailpit: $(MAILPIT)
$(MAILPIT):
	mkdir -p $(dir $@)
	GOBIN=$(dir $@) $(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION)

# The homeserver and the tools its test uses: generate-keys,
# generate-config (a sqlite config in a temp dir) and create-account.
dendrite: $(DENDRITE)
$(DENDRITE):
	mkdir -p $(dir $@)
	GOBIN=$(dir $@) $(GO) install $(foreach c,dendrite generate-keys generate-config create-account,github.com/matrix-org/dendrite/cmd/$(c)@$(DENDRITE_VERSION))

# InfluxDB 1.x from Debian, when missing.
influxdb:
	@(command -v influxd && command -v influx) >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb influxdb-client)

# VictoriaMetrics' single-node server, built once from the Go module proxy
# and cached (about 5 minutes cold): the e2e shows Telegraf with powerinput
# writing to it (docs/scale.md, beyond one node). A build that fails is
# said and not fatal: its test then skips, saying why.
victoria-metrics: $(VICTORIA)
$(VICTORIA):
	mkdir -p $(dir $@)
	GOBIN=$(dir $@) $(GO) install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$(VICTORIA_VERSION) || echo "victoria-metrics $(VICTORIA_VERSION) did not build: its e2e test will skip"

e2e: build telegraf influxdb victoria-metrics
	$(GO) test -count=1 -tags e2e -timeout 8m ./e2e/ -telegraf=$(TELEGRAF) -powerinput=$(CURDIR)/bin/powerinput -victoria-metrics=$(VICTORIA)

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
