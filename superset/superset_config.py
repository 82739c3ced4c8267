# Superset configuration for tidemark (loaded through SUPERSET_CONFIG_PATH, see
# docker-compose.yaml). Everything secret or deployment-specific comes from the environment;
# nothing here may hold a password.
#
#   SUPERSET_SECRET_KEY          required: signs sessions and encrypts stored database passwords
#   SUPERSET_DATABASE_URI        Superset's own metadata database (default: SQLite in the home dir)
#   SUPERSET_REDIS_URL           redis://host:port for cache and Celery (unset: in-process cache,
#                                no Alerts & Reports workers)
#   SUPERSET_WEBSERVER_BASEURL   how users reach Superset, used in alert e-mails and Slack links
#   SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_MAIL_FROM, SMTP_STARTTLS
#   SLACK_API_TOKEN              for alerts sent to Slack
#   ALERT_REPORTS_DRY_RUN        "true" logs notifications instead of sending them

import os


def _env(name, default=None):
    value = os.environ.get(name, "").strip()
    return value if value else default


def _env_bool(name, default=False):
    value = _env(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


SECRET_KEY = _env("SUPERSET_SECRET_KEY")
if SECRET_KEY is None:
    # Superset would otherwise start with its well-known default key.
    raise RuntimeError("SUPERSET_SECRET_KEY is not set (e.g. `openssl rand -base64 42`)")

SQLALCHEMY_DATABASE_URI = _env(
    "SUPERSET_DATABASE_URI",
    "sqlite:///" + os.path.join(_env("SUPERSET_HOME", "/app/superset_home"), "superset.db"),
)

FEATURE_FLAGS = {
    # Alerts for CRITICAL anomalies and failed quality checks (superset/README.md).
    "ALERT_REPORTS": True,
    "DASHBOARD_CROSS_FILTERS": True,
    "DASHBOARD_RBAC": True,
    # The bundle's SQL filters are plain SQL: no Jinja needed, so keep templating off.
    "ENABLE_TEMPLATE_PROCESSING": False,
    # The bundle's "newest N days of data" filters compare with a subquery on the same mart
    # (`event_date > (SELECT max(event_date) FROM …) - INTERVAL …`, superset/README.md); Superset
    # refuses subqueries in custom SQL unless this is on. What such a subquery can read is bounded
    # by the connection's role: tidemark_ro sees the tidemark tables only, which every dashboard
    # user may see anyway.
    "ALLOW_ADHOC_SUBQUERY": True,
}

# The marts answer dashboard queries from indexes in milliseconds; a long limit only hides a
# runaway query. tidemark_ro also has a 60 s statement_timeout on the server (db/init).
SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 90
ROW_LIMIT = 50000

# ---- Caching ----------------------------------------------------------------------------------
# Chart data is cached for 30 s: the real-time dashboard refreshes every 60 s and the hot marts
# change by the minute, while cold marts change once a day (a short TTL costs them nothing).
REDIS_URL = _env("SUPERSET_REDIS_URL")
if REDIS_URL:
    REDIS_URL = REDIS_URL.rstrip("/")

    def _redis_cache(db, timeout, prefix):
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_DEFAULT_TIMEOUT": timeout,
            "CACHE_KEY_PREFIX": prefix,
            "CACHE_REDIS_URL": f"{REDIS_URL}/{db}",
        }

    CACHE_CONFIG = _redis_cache(1, 300, "superset_meta_")
    DATA_CACHE_CONFIG = _redis_cache(1, 30, "superset_data_")
    FILTER_STATE_CACHE_CONFIG = _redis_cache(1, 86400, "superset_filter_")
    EXPLORE_FORM_DATA_CACHE_CONFIG = _redis_cache(1, 86400, "superset_explore_")
else:
    CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
    DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 30}
    FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
    EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}

# ---- Alerts & Reports (Celery) ----------------------------------------------------------------
if REDIS_URL:
    from celery.schedules import crontab

    class CeleryConfig:  # pylint: disable=too-few-public-methods
        broker_url = f"{REDIS_URL}/0"
        result_backend = f"{REDIS_URL}/0"
        imports = ("superset.sql_lab", "superset.tasks.scheduler")
        worker_prefetch_multiplier = 1
        task_acks_late = False
        beat_schedule = {
            # Evaluates due alerts every minute; each alert has its own cron schedule.
            "reports.scheduler": {"task": "reports.scheduler", "schedule": crontab(minute="*", hour="*")},
            "reports.prune_log": {"task": "reports.prune_log", "schedule": crontab(minute=0, hour=0)},
        }

    CELERY_CONFIG = CeleryConfig

ALERT_REPORTS_NOTIFICATION_DRY_RUN = _env_bool("ALERT_REPORTS_DRY_RUN", False)
# Alert e-mails link to the dashboard as users reach it; screenshots are taken from inside.
WEBDRIVER_BASEURL = _env("SUPERSET_WEBDRIVER_BASEURL", "http://superset:8088/")
WEBDRIVER_BASEURL_USER_FRIENDLY = _env("SUPERSET_WEBSERVER_BASEURL", "http://localhost:8088/")

SMTP_HOST = _env("SMTP_HOST", "localhost")
SMTP_PORT = int(_env("SMTP_PORT", "25"))
SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", True)
SMTP_SSL = False
SMTP_USER = _env("SMTP_USER", "")
SMTP_PASSWORD = _env("SMTP_PASSWORD", "")
SMTP_MAIL_FROM = _env("SMTP_MAIL_FROM", "superset@example.org")
SLACK_API_TOKEN = _env("SLACK_API_TOKEN")
