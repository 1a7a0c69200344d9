# Waymark: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Two workers by default (the machines have two cores); PostgreSQL runs use -n 0 (one shared database).
PYTEST_ARGS ?= -n 2

.PHONY: run test serve migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# A local secret for this checkout, kept in instance/ (git-ignored) so sessions survive restarts.
instance/config.py:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print('# Local settings for this checkout (not committed).'); print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@

migrate: $(VENV)/.installed-run instance/config.py
	$(FLASK) db upgrade
	$(FLASK) taxonomy seed

demo: migrate
	$(FLASK) demo --if-empty

run: demo
	@# The search index is built once a search backend exists (flask search).
	@if $(FLASK) search --help >/dev/null 2>&1; then $(FLASK) search rebuild; fi
	@echo ""
	@echo "Waymark is starting on http://$(HOST):$(PORT)/"
	@echo ""
	@# Plain http on the loopback address, so the cookies cannot be Secure-only here.
	SESSION_COOKIE_SECURE=false $(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
