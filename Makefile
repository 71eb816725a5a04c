# Triage Desk build. Every build, test and run uses the tags in
# scripts/build-tags: migrated_fynedo, and no_emoji (Fyne's bundled emoji font
# held about 15 MB of memory for glyphs the app never shows).
# The README's two commands: `make run` and `make test`.

GO       ?= go
TAGS     := $(shell cat scripts/build-tags)
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS  := -X github.com/triagedesk/triagedesk/internal/version.Version=$(VERSION) \
            -X github.com/triagedesk/triagedesk/internal/version.Commit=$(COMMIT)
BIN      := bin

export GORACE := halt_on_error=1

.PHONY: all run build triagedesk triagectl test lint bench deps clean safety screenshots quit-check ui-check

all: build

## run: install missing build packages, build, and start the GUI in demo mode
run: build-deps triagedesk
	@case "$${LANG:-C}" in C|C.*|POSIX) export LANG=en_GB.UTF-8;; esac; ./$(BIN)/triagedesk --demo

build: triagedesk triagectl

triagedesk:
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN)/triagedesk ./cmd/triagedesk

## triagectl: the headless CLI, pure Go (no cgo)
triagectl:
	CGO_ENABLED=0 $(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN)/triagectl ./cmd/triagectl

## test: vet and the race-enabled test suite (GUI tests run headless); the
## results are also kept, as go test -json, in bin/test-results.json. The
## time limit per package is generous: on a loaded 2-core machine the GUI
## package alone takes most of go test's default 10 minutes.
TEST_RESULTS := $(BIN)/test-results.json
TEST_TIMEOUT := 30m
test:
	$(GO) vet -tags $(TAGS) ./...
	@mkdir -p $(BIN)
	$(GO) tool gotestsum --format pkgname-and-test-fails --jsonfile $(TEST_RESULTS) -- -race -timeout $(TEST_TIMEOUT) -tags $(TAGS) ./...

## lint: formatting, vet and staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	$(GO) tool staticcheck -tags $(TAGS) ./...

## safety: run exactly the tests the clinical-safety hazard log names, as a table
## (RESULTS=bin/test-results.json judges them from the last `make test` instead)
safety:
	$(GO) run -tags $(TAGS) ./cmd/safetycheck -tags $(TAGS) $(if $(RESULTS),-results $(RESULTS))

## bench: run the project's benchmarks and print a table
bench:
	@scripts/bench.sh

## screenshots: a real window under Xvfb, driven by the keyboard, saved into docs/screenshots/ (needs Xvfb, xdotool, ImageMagick)
screenshots:
	scripts/screenshots.sh

## quit-check: the real window under Xvfb (no system tray) quits with exit 0 and no panic from File → Quit and SIGTERM, with and without D-Bus; saves the unsent-decisions warning and a related referral's letter into docs/screenshots/
quit-check:
	scripts/quit-check.sh

## ui-check: a scripted clinician session in the real window under Xvfb at 1280x800 and 1920x1080 (open, page down, find, reject, confirm, next, outage, conflict, outbox, settings, lock); fails if the window outgrows the screen, a key changes nothing or a panic is logged; screens in build/ui-check/
ui-check:
	scripts/ui-check.sh

## deps: download Go modules and install the Debian packages for building and testing
deps:
	$(GO) mod download
	scripts/deps.sh test

build-deps:
	@scripts/deps.sh build

clean:
	rm -rf $(BIN)

# --- Packaging (docs/deploy.md). Output in dist/. ---------------------------
.PHONY: icons package-linux package-windows package-darwin sign package-check windows-check

## icons: render assets/icons/*.png and assets/icon.ico from assets/icon.svg
icons:
	packaging/icons.sh

## package-linux: dist/linux/triagedesk-*.tar.xz and triagedesk_*.deb
package-linux:
	packaging/linux/build.sh

## package-windows: dist/windows/TriageDesk.exe, triagectl.exe and the MSI (cross-built with mingw-w64 and wixl)
package-windows:
	packaging/windows/build.sh

## package-darwin: dist/darwin/TriageDesk-*.dmg, signed and notarised (macOS only)
package-darwin:
	packaging/macos/build.sh

## sign: Authenticode-sign the Windows programs and MSI (SIGN_PFX, SIGN_PASS, optional SIGN_TIMESTAMP_URL), then verify
sign:
	packaging/sign.sh

## package-check: build the Linux and Windows packages and check them, signing with a throwaway certificate
package-check:
	packaging/check.sh

## windows-check: install, upgrade and uninstall the MSI, run triagectl.exe, the GUI and the crash harness under Wine (throwaway WINEPREFIX; about 10 minutes warm)
windows-check:
	packaging/windows/check-wine.sh
