.PHONY: run test lint format migrations-check deploy-check ci bench

run:            ## start the app with demo data (SQLite, file broker)
	bin/run

test:           ## the whole test suite against PostgreSQL
	bin/test

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

migrations-check:
	.venv/bin/python manage.py makemigrations --check --dry-run

deploy-check:
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		NUDGES_UNIT_HASH_KEY=$$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		.venv/bin/python manage.py check --deploy --fail-level WARNING

ci:
	bash .ci/run

bench:
	bash benchmarks/run.sh
