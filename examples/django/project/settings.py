"""
Settings of the Django side of a site that shares its sessions with the Node app: the same
SECRET_KEY, SECRET_KEY_FALLBACKS and database as the Node app's environment, the db session
engine (table django_session), Django's default cookie, and the JSON serializer.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["SECRET_KEY"]  # the same key on both sides, or neither reads the other's sessions
SECRET_KEY_FALLBACKS = [k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()]
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "demo",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

# The Node app's database file (DATABASE_PATH in its environment too).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DATABASE_PATH", str(BASE_DIR / "db.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

SESSION_ENGINE = "django.contrib.sessions.backends.db"  # rows of the django_session table
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"  # the only one Node reads
SESSION_COOKIE_NAME = "sessionid"
SESSION_COOKIE_AGE = 1209600  # two weeks
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_PATH = "/"

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/login/"
# expire_date in UTC, as the Node app writes it (without this, Django < 5 stores local time).
USE_TZ = True
TIME_ZONE = "UTC"
