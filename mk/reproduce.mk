# Experiment grid, result cache and rendered reports.
#   make reproduce [PROFILE=quick] [FORCE=1] [ARTEFACT=negatives,tau-plus] [SEEDS=0,1,2] [DATA_ROOT=data]
#   make report    [PROFILE=quick]     render results/reports/<profile>/ from the cache only
#   make lab       [PROFILE=quick]     JupyterLab on notebooks/
PROFILE ?= quick
ARTEFACT ?= all
DATA_ROOT ?= data
FORCE ?=
SEEDS ?=
SELECT = --profile $(PROFILE) --artefact $(ARTEFACT) $(if $(SEEDS),--seeds $(SEEDS),)
VENV := .venv
# Jupyter's connection files stay inside the project, never in the home folder
JUPYTER_ENV := JUPYTER_RUNTIME_DIR=$(CURDIR)/.jupyter-runtime DCL_REPORT_PROFILE=$(PROFILE)

.PHONY: reproduce experiments report lab jupyter-env plan

reproduce: $(NODE_MODULES) ## train missing cells of PROFILE for the datasets present, render
	$(MAKE) --no-print-directory jupyter-env build
	$(MAKE) --no-print-directory experiments
	$(MAKE) --no-print-directory report

experiments: build ## run the missing grid cells only (PROFILE, ARTEFACT, SEEDS, FORCE=1)
	node dist/experiments/main.js run $(SELECT) --data-root $(DATA_ROOT) \
	  $(if $(filter 1 yes true,$(FORCE)),--force,)

plan: build ## list the cells of PROFILE, which are cached, and the time estimate
	node dist/experiments/main.js plan $(SELECT) --data-root $(DATA_ROOT)

report: build jupyter-env ## render every notebook of PROFILE to results/reports/<profile>/
	@node dist/experiments/main.js check --profile $(PROFILE) || \
	  echo "warning: the reports leave the unreadable cache files above out"
	$(JUPYTER_ENV) $(VENV)/bin/python scripts/render_reports.py --profile $(PROFILE)

lab: build jupyter-env ## open JupyterLab on notebooks/ (reads the PROFILE cache)
	$(JUPYTER_ENV) $(VENV)/bin/jupyter lab --notebook-dir=notebooks --no-browser \
	  $(if $(filter 0,$(shell id -u)),--allow-root,)

jupyter-env: $(NODE_MODULES) ## project-local .venv: Jupyter, nbconvert, tslab kernel
	@scripts/setup-jupyter.sh
