"""Gunicorn settings for production: ``gunicorn -c config/gunicorn_conf.py config.wsgi``.

- The access log goes through ``config.logs.GunicornLogger``, which replaces secret tokens in
  paths and referrers by ``[token]``.
- The ``Server`` header does not name the software (gunicorn has no setting for it).
"""

import os

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "web"

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
logger_class = "config.logs.GunicornLogger"
accesslog = "-"
# Client address, request line (tokens redacted), status, size, time in ms; no user agent.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
