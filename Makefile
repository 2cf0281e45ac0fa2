# Two commands on a fresh machine with Python 3.11+, git and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make test` runs the suite in this many pytest-xdist worker processes (auto: one per core; 0: all
# in one process). Each worker has its own test database and its own Redis.
PYTEST_WORKERS ?= auto

.PHONY: run test install lint migrate worker beat messages clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo 'Could not create $(VENV). On Debian/Ubuntu install python3-venv first: sudo apt install python3-venv' >&2; \
		exit 1; }

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving the DLSEI portal on http://127.0.0.1:8000 (SQLite, in-process tasks, e-mails in var/mail)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

worker: $(STAMP)
	$(BIN)/celery -A dlsei worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A dlsei beat --loglevel=INFO

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l ur --ignore=.venv
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
