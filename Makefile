# Tessera: `make run` and `make test` set everything up on a fresh Debian machine with Swift.
SWIFT ?= swift
APT_PACKAGES := libgraphviz-dev graphviz libyaml-dev pkg-config
# The Python onnx package the ONNX fixtures are made with (scripts/make-onnx-fixtures.py).
ONNX_VERSION := 1.23.2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench golden regress lint deps clean build fuzz onnx-proto onnx-fixtures validate install install-check html-check docs

run: deps
	$(SWIFT) build -c release --product tessera
	.build/release/tessera simulate configs/sat/vcu1525.yaml traces/resnet18-train-b16.yaml --compare-dense -o out
	.build/release/tessera ablate configs/sat/vcu1525.yaml traces/resnet18-train-b16.yaml -o out/ablation.md
	.build/release/tessera simulate configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o out --quiet
	.build/release/tessera render hardware configs/sat/vcu1525.yaml -o out/hardware.svg
	.build/release/tessera render graph configs/sat/vcu1525.yaml traces/small-cnn-train.yaml -o out/graph.svg
	.build/release/tessera render schedule configs/sat/vcu1525.yaml traces/resnet18-train-b16.yaml -o out/schedule.svg
	.build/release/tessera simulate configs/gpu/dgx-h100-x128.yaml traces/gpt3-175b-train-1024.yaml -o out
	.build/release/tessera render schedule configs/gpu/dgx-h100-x128.yaml traces/gpt3-175b-train-1024.yaml -o out/gpt3-schedule.svg
	@echo ""
	@echo "The demo wrote out/. Open first:"
	@echo "  out/resnet18-train-b16--sat-vcu1525.md      the SAT step: time, speedup over dense, energy, per-layer table"
	@echo "  out/schedule.svg                            that step's schedule (units, DRAM, power over time)"
	@echo "  out/ablation.md                             what each SAT optimization buys"
	@echo "  out/hardware.svg, out/graph.svg             the accelerator and a dataflow graph"
	@echo "  out/gpt3-175b-tp8-pp8-dp16--dgx-h100-x128.md, out/gpt3-schedule.svg   a GPT-3 step on 1,024 GPUs"

build: deps
	$(SWIFT) build

test: deps
	scripts/check-imports.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	scripts/regress.sh
	scripts/fuzz.py --quick --seconds 30 --budget 120 --seed 1 --tessera .build/debug/tessera

# Mutates the bundled configs, traces and sweeps and runs each in its own process (seeded,
# time-boxed): fails on any signal, any run over its time budget, any exit 2 without
# file:line:column, or a pair validate accepted and simulate refused. FUZZ_SECONDS=600 FUZZ_SEED=7.
FUZZ_SECONDS ?= 300
FUZZ_SEED ?= 1
fuzz: deps
	$(SWIFT) build -c release --product tessera
	scripts/fuzz.py --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --tessera .build/release/tessera

bench: deps
	$(SWIFT) build -c release --product tessera-bench
	.build/release/tessera-bench

# Re-record the golden end-to-end reports under Tests/TesseraStudyTests/Golden and the baselines
# under reports/ (deliberately). The test run that records fails by design (so a recording never
# passes for a check); this target says so and goes on only when every failure is a recording.
golden: deps
	@TESSERA_RECORD_GOLDEN=1 $(SWIFT) test --filter GoldenReportTests 2>&1 | tee .golden.log; \
	  if grep -q "error: \|failed after" .golden.log && ! grep -q "re-recorded" .golden.log; then rm -f .golden.log; echo "golden: the recording run failed for another reason"; exit 1; fi; \
	  rm -f .golden.log; echo "golden: re-recorded Tests/TesseraStudyTests/Golden (the recording run fails on purpose; make test checks them)"
	$(SWIFT) build --product tessera
	scripts/regress.sh --record

# Tessera against published measurements (validation/*/cases.yaml): each row's error with its sign,
# each source's mean and a summary, and validation/out/predicted-vs-published.svg. Fails when a row
# is beyond its suite's threshold. Not part of make test; CI runs it.
validate: deps
	$(SWIFT) build --product tessera
	scripts/validate.py --tessera .build/debug/tessera

# The generated references: docs/reference/cli.md (every command's help) and schema.md (the
# `tessera kinds` listing). make test fails when they are stale.
docs: deps
	$(SWIFT) build --product tessera
	@mkdir -p docs/reference
	.build/debug/tessera reference cli > docs/reference/cli.md
	.build/debug/tessera reference schema > docs/reference/schema.md

# The HTML report in a real headless browser (Debian's chromium; installed here if missing): one
# page per family and from `tessera report`, no console message, key elements present, the layer
# table sorts when its heading is clicked, screenshots not blank. CI runs it.
html-check: deps
	@command -v chromium >/dev/null 2>&1 || $(SUDO) apt-get install -y chromium
	$(SWIFT) build --product tessera
	scripts/check-html.py --tessera .build/debug/tessera

# Simulates every configs/array × traces pair and compares it exactly with its baseline in reports/.
regress: deps
	$(SWIFT) build --product tessera
	scripts/regress.sh

lint:
	@scripts/check-imports.sh
	@if $(SWIFT) format --version >/dev/null 2>&1; then $(SWIFT) format lint --recursive --configuration .swift-format Sources Tests Benchmarks; else echo "swift format not available; skipped"; fi

# Runs the bundled design-space sweep on every core: out/sweeps/NAME/{results.csv,results.json,pareto.csv,plots/}.
SWEEP ?= sweeps/sat-design-space.yaml
.PHONY: sweep test-slurm
sweep: deps
	$(SWIFT) build -c release --product tessera
	.build/release/tessera sweep $(SWEEP) --fresh

# Starts a one-node Slurm cluster here (scripts/slurm-local.sh: root, Debian) and runs the test that
# submits a sweep as a real array job; .ci/run does the same before make test.
test-slurm: deps
	scripts/slurm-local.sh
	$(SWIFT) build --build-tests
	TESSERA_SLURM=1 $(SWIFT) test --skip-build --filter aSlurmArrayJobMergesToTheSingleRunResults

# Installs a tessera that needs no Swift toolchain (the Swift standard library and Foundation linked
# statically; libgraphviz and libyaml stay the system's), the bundled configs, traces, models and
# sweeps under PREFIX/share/tessera (relative paths fall back to them, so the demo runs anywhere),
# bash/zsh/fish completions and a man page generated from the argument parser.
PREFIX ?= /usr/local
STATIC_BUILD := .build-static
install: deps
	$(SWIFT) build -c release --product tessera --static-swift-stdlib --scratch-path $(STATIC_BUILD)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tessera $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(STATIC_BUILD)/release/tessera $(DESTDIR)$(PREFIX)/bin/tessera
	cp -R configs traces models sweeps $(DESTDIR)$(PREFIX)/share/tessera/
	$(DESTDIR)$(PREFIX)/bin/tessera --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tessera
	$(DESTDIR)$(PREFIX)/bin/tessera --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tessera
	$(DESTDIR)$(PREFIX)/bin/tessera --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tessera.fish
	$(SWIFT) build -c release --package-path $(STATIC_BUILD)/checkouts/swift-argument-parser --product generate-manual
	mkdir -p $(STATIC_BUILD)/manual
	$(STATIC_BUILD)/checkouts/swift-argument-parser/.build/release/generate-manual $(DESTDIR)$(PREFIX)/bin/tessera --output-directory $(STATIC_BUILD)/manual
	install -m 644 $(STATIC_BUILD)/manual/tessera.1 $(DESTDIR)$(PREFIX)/share/man/man1/tessera.1
	@echo "installed $(DESTDIR)$(PREFIX)/bin/tessera; try: tessera simulate (from any directory), man tessera"

# Installs into a fresh prefix and proves the binary needs no toolchain: ldd lists no Swift
# library, and it runs the demo from another directory with an empty environment.
install-check:
	scripts/check-install.sh

# Regenerates the Swift code of the ONNX subset Tessera reads (Protos/onnx_subset.proto) with
# protoc (Debian's protobuf-compiler) and swift-protobuf's own protoc-gen-swift, built from the
# package checkout SwiftPM already made.
onnx-proto: deps
	@command -v protoc >/dev/null || { echo "installing: protobuf-compiler"; $(SUDO) apt-get install -y protobuf-compiler; }
	$(SWIFT) package resolve
	$(SWIFT) build -c release --package-path .build/checkouts/swift-protobuf --product protoc-gen-swift
	protoc --plugin=protoc-gen-swift=.build/checkouts/swift-protobuf/.build/release/protoc-gen-swift \
	  --swift_opt=Visibility=Internal --swift_out=Sources/TesseraSpec/Import/ONNX --proto_path=Protos Protos/onnx_subset.proto

# Rebuilds the ONNX fixtures (shapes only, no weights) with Python's onnx package.
onnx-fixtures:
	python3 -m pip install --quiet onnx==$(ONNX_VERSION)
	python3 scripts/make-onnx-fixtures.py

# Installs the system packages the build needs, when any is missing (apt-get update first).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; fi
	@python3 -c "import onnx" 2>/dev/null || { echo "installing: Python's onnx $(ONNX_VERSION) (the ONNX models' reproduction check)"; python3 -m pip install --quiet onnx==$(ONNX_VERSION); }

clean:
	rm -rf .build out
