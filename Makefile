# zsbed: thin entry points; the logic lives in the zsbed/ Python package.
#
#   make uml-test [VARIANT=fast] [KSRC=dir] [SERIES=dir|mbox|none] [K=expr]
#   make check     unit tests, checkpatch, workflow, series-build, uml-test fast + deep,
#                  fault, coverage, peer
#   make fault|mutants|coverage|flaky SHARD=i/N; make merge RESULTS="dir..."
#   make ci-local N=3  the CI matrix here, shards and merge, against the unsharded runs
#   make help

PY      := /usr/bin/python3
VARIANT ?= fast
ZSBED   := PYTHONPATH=$(CURDIR) PYTHONDONTWRITEBYTECODE=1 $(PY) -m zsbed
OPTS     = --variant=$(VARIANT) $(if $(KSRC),--ksrc=$(KSRC)) $(if $(SERIES),--series=$(SERIES))
PYTEST   = $(if $(K),-k "$(K)")
SHARDOPT = $(if $(SHARD),--shard=$(SHARD))

.PHONY: help uml-test qemu-test check unit lint test-data flaky checkpatch series-build workflow fault mutants mutation coverage peer bench build variants pipeline-bench merge ci-local ci-container summary reference clean distclean

help:
	@echo "zsbed: user-mode Linux test bed for the zsmalloc zs_free() series"
	@echo
	@echo "  make uml-test   fetch Linux 7.3, apply patches/series, build UML, boot,"
	@echo "                  run KUnit + selftests; results in results/latest/"
	@echo "  make qemu-test  the same on an x86_64 guest booted by qemu-system-x86_64: native"
	@echo "                  class-index zs_free(), 2 real vCPUs (VARIANT=x86-fast|x86-kcsan;"
	@echo "                  KVM if a probe boot shows it works, else TCG; ACCEL=kvm|tcg)"
	@echo "  make check      unit tests, lint, checkpatch, workflow, series-build, uml-test fast + deep,"
	@echo "                  fault, coverage, peer (what CI runs)"
	@echo "  make unit       harness unit tests only"
	@echo "  make lint       mypy --strict and flake8 on zsbed/ and tests/ (settings: pyproject.toml)"
	@echo "  make checkpatch scripts/checkpatch.pl --strict on every patch"
	@echo "  make series-build  each patch builds on its own (UML), the fault points"
	@echo "                  compile away, the touched objects compile for x86_64"
	@echo "  make workflow   check the GitHub Actions workflow (ci/github/) with action-validator"
	@echo "  make fault      run every fault scenario in fault/ (SCENARIO=name: one; LIST=1: list;"
	@echo "                  TARGET=qemu: on the x86_64 guest, x86-fast or x86-fallback)"
	@echo "  make mutants    build and boot each deliberately broken kernel; all must be caught"
	@echo "                  (TARGET=qemu: the x86_64 ones, KCSAN's data-race mutants)"
	@echo "                  (REPEAT=N: N boots each, killed only if all N kill it)"
	@echo "  make mutation   mutants generated from every line the series adds (never zsbed's"
	@echo "                  patches): build, boot until a check fails, score per file, function,"
	@echo "                  patch; resumes where it stopped (SAMPLE=n SEED=s, SHARD=i/N,"
	@echo "                  MIN_SCORE=pct, MUTANT=file:line[:op:n], REPORT=1: score what is kept,"
	@echo "                  no boots); results/latest/mutation/"
	@echo "  make flaky      boot the plan (fast, deep) and every scenario N times (N=20) on the"
	@echo "                  unmutated series: every case must fail 0 of N (VARIANTS=, SCENARIO=;"
	@echo "                  KUNIT=1: KUnit-only boots of VARIANTS=, no selftests or scenarios)"
	@echo "  make test-data  refresh tests/data from real runs (RESULTS=\"results/a results/b\")"
	@echo "  make coverage   gcov of zsmalloc/zram/zswap over KUnit, selftests and every scenario,"
	@echo "                  both lookup modes; fails if a fallback site was never hit"
	@echo "                  (WITHOUT=scenario[,..] leaves scenarios out)"
	@echo "  SHARD=i/N       on fault, mutants, coverage, flaky: only shard i of N of the boots"
	@echo "                  (a stable split by name); results/<time>-fault-shard1of3/ and so on"
	@echo "  make merge      RESULTS=\"dir...\": shards and job results as one report (summary.json,"
	@echo "                  junit.xml, mutants, coverage); fails if a shard is missing or failed"
	@echo "                  (MATRIX=gate|full: also if a results part of those CI tiers is missing)"
	@echo "  make ci-local   N=3: the CI matrix's jobs here one after another, shards included,"
	@echo "                  make merge, then the same merged case for case against unsharded"
	@echo "                  runs (RESULTS=\"dir...\": whole fault/mutants runs to compare against)"
	@echo "  make summary    results/latest (RESULTS=dir) as Markdown: counts, the first failure"
	@echo "                  and the run's tables; CI jobs put it on the run's page"
	@echo "  make ci-container  JOB=id: one job of the GitHub workflow in a container made like"
	@echo "                  GitHub's (Debian 12 minbase, noexec /dev/shm, the job's own steps;"
	@echo "                  REV=commit, KEEP=1): each step, peak memory and peak disk"
	@echo "  make peer       upstream's own zram and cgroup selftests (zram.sh, test_zswap,"
	@echo "                  test_memcontrol) on plain 7.3 and on the series, side by side"
	@echo "  make bench      munmap/exit timing on fallback, classbits and deferred kernels"
	@echo "                  (QUICK=1: 32 MiB, 3 rounds; MIB=, ROUNDS=; TARGET=qemu: x86_64"
	@echo "                  guests under KVM, refused in one line where only TCG works)"
	@echo "  make build      everything up to the boot (fetch, patch, configure, build)"
	@echo "  make variants   list build variants (uml-config/*.config)"
	@echo "  make pipeline-bench  time zsbed itself: rerun, patch edit, boot (COLD=1: fresh clone)"
	@echo "  make reference  write docs/reference.md: every target and option, from the code"
	@echo "  make clean      remove build/ and results/ (keeps the fetched source)"
	@echo "  make distclean  also remove work/ (fetched and patched trees)"
	@echo
	@echo "Options: VARIANT=name  KSRC=/your/linux-7.3  SERIES=dir|mbox|none"
	@echo "         TIMEOUT=seconds (per boot)  K='pytest -k expression'"

uml-test:
	@$(ZSBED) uml-test $(OPTS) $(if $(TIMEOUT),--timeout=$(TIMEOUT)) -- $(PYTEST)

# The x86_64 guest: VARIANT=x86-fast unless given; ACCEL=kvm|tcg skips the probe.
QOPTS    = --variant=$(if $(filter command line,$(origin VARIANT)),$(VARIANT),x86-fast) \
           $(if $(KSRC),--ksrc=$(KSRC)) $(if $(SERIES),--series=$(SERIES))

qemu-test:
	@ZSBED_ACCEL=$(ACCEL) $(ZSBED) qemu-test $(QOPTS) $(if $(TIMEOUT),--timeout=$(TIMEOUT)) \
		-- $(PYTEST)

build:
	@$(ZSBED) build $(OPTS)

checkpatch:
	@$(ZSBED) checkpatch $(OPTS)

series-build:
	@$(ZSBED) series-build $(OPTS)

workflow:
	@$(ZSBED) workflow

# Scenarios name their own variant; VARIANT= on the command line overrides.
FOPTS    = $(if $(filter command line,$(origin VARIANT)),--variant=$(VARIANT)) \
           $(if $(KSRC),--ksrc=$(KSRC)) $(if $(SERIES),--series=$(SERIES))

fault:
	@ZSBED_ACCEL=$(ACCEL) $(ZSBED) fault $(FOPTS) $(if $(SCENARIO),--scenario=$(SCENARIO)) \
		$(if $(LIST),--list) $(if $(filter command line,$(origin TARGET)),--target=$(TARGET)) $(SHARDOPT) -- $(PYTEST)

flaky:
	@$(ZSBED) flaky $(if $(N),--n=$(N)) $(if $(VARIANTS),--variants=$(VARIANTS)) \
		$(if $(SCENARIO),--scenario=$(SCENARIO)) $(if $(KSRC),--ksrc=$(KSRC)) \
		$(if $(SERIES),--series=$(SERIES)) $(if $(KUNIT),--kunit) $(SHARDOPT)

mutants:
	@ZSBED_ACCEL=$(ACCEL) $(ZSBED) mutants $(OPTS) $(if $(MUTANT),--mutant=$(MUTANT)) \
		$(if $(REPEAT),--repeat=$(REPEAT)) \
		$(if $(filter command line,$(origin TARGET)),--target=$(TARGET)) $(SHARDOPT)

mutation:
	@$(ZSBED) mutation $(OPTS) $(SHARDOPT) $(if $(SAMPLE),--sample=$(SAMPLE)) \
		$(if $(SEED),--seed=$(SEED)) $(if $(MIN_SCORE),--min-score=$(MIN_SCORE)) \
		$(if $(MUTANT),--mutant=$(MUTANT)) $(if $(REPORT),--report-only)

coverage:
	@$(ZSBED) coverage $(if $(KSRC),--ksrc=$(KSRC)) $(if $(SERIES),--series=$(SERIES)) \
		$(if $(WITHOUT),--without=$(WITHOUT)) $(SHARDOPT)

# Shard and job results as one report: make merge RESULTS="dir..." [MATRIX=gate|full]
merge:
	@$(ZSBED) merge $(if $(MATRIX),--matrix=$(MATRIX)) $(RESULTS)

# The CI matrix on this machine (not in make check: it runs every job, the
# sharded ones twice). RESULTS= whole fault/mutants runs to compare against.
ci-local:
	@$(ZSBED) ci-local $(if $(N),--n=$(N)) $(if $(KSRC),--ksrc=$(KSRC)) \
		$(if $(SERIES),--series=$(SERIES)) $(RESULTS)

# A results directory as Markdown (CI jobs append it to $GITHUB_STEP_SUMMARY)
summary:
	@$(ZSBED) summary $(RESULTS)

# One job of the workflow in a container made like GitHub's: make ci-container JOB=uml-test-fast
ci-container:
	@$(ZSBED) ci-container $(if $(JOB),--job=$(JOB)) $(if $(REV),--rev=$(REV)) $(if $(KEEP),--keep)

peer:
	@$(ZSBED) peer $(if $(KSRC),--ksrc=$(KSRC)) $(if $(SERIES),--series=$(SERIES)) -- $(PYTEST)

bench:
	@ZSBED_ACCEL=$(ACCEL) $(ZSBED) bench $(if $(KSRC),--ksrc=$(KSRC)) $(if $(SERIES),--series=$(SERIES)) \
		$(if $(QUICK),--quick) $(if $(MIB),--mib=$(MIB)) $(if $(ROUNDS),--rounds=$(ROUNDS)) \
		$(if $(filter command line,$(origin TARGET)),--target=$(TARGET))

variants:
	@$(ZSBED) variants

pipeline-bench:
	@$(ZSBED) pipeline-bench $(if $(COLD),--cold)

reference:
	@$(ZSBED) reference

lint:
	@$(ZSBED) lint

unit:
	@$(ZSBED) unit $(if $(KSRC),--ksrc=$(KSRC)) -- $(PYTEST)

# Refresh tests/data from real runs: make test-data RESULTS="results/a results/b ..."
test-data:
	@$(ZSBED) test-data $(RESULTS)

# CI's job: the static checks, both variants, every fault scenario in its
# own variant, coverage (fails if a fallback site went unreached), then
# upstream's own tests on base and series.
check: unit lint checkpatch workflow series-build
	@$(MAKE) --no-print-directory uml-test
	@$(MAKE) --no-print-directory uml-test VARIANT=deep
	@$(MAKE) --no-print-directory fault
	@$(MAKE) --no-print-directory coverage
	@$(MAKE) --no-print-directory peer
	@$(MAKE) --no-print-directory qemu-test VARIANT=x86-kcsan
	@$(MAKE) --no-print-directory fault TARGET=qemu SCENARIO=kcsan-free-record-race

clean:
	rm -rf build results

distclean: clean
	rm -rf work
